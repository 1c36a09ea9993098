package caddymodule_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestAnImportBringsNoRemovedPhoneBack: alice's phone is stolen, with her
// password; the admin removes the phone, and then imports an export taken
// before (last night's backup restored, or an import that was running).
// The thief asks for a code to the stolen phone: none is sent, and he is
// not signed in; the import's answer says it left the phone out. Before,
// the import wrote the export's device list over the store's, the phone
// was hers again, and its code signed the thief in. On Badger and on a
// real Redis, through a real Caddy.
func TestAnImportBringsNoRemovedPhoneBack(t *testing.T) {
	sitetest.Parallel(t)
	const stolen, kept = "+14155550111", "+14155550122"
	for _, on := range []string{"badger", "redis"} {
		t.Run(on, func(t *testing.T) {
			st := "badger {DIR}"
			if on == "redis" {
				st = "redis " + redistest.Server(t)
				t.Cleanup(func() { down(t) }) // before the Redis stops
			}
			s := sitetest.Start(t, fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	basic_auth argon2id {
		alice %[1]s
	}
	smsgate {
		store %[2]s
		provider log
%[3]s	}
	respond "Hello, {http.auth.user.id}!"
}`, sitetest.DemoHash, st, limitsOff))
			phone := addUser(t, s, "alice", stolen)
			addUser(t, s, "alice", kept)
			code, export := s.Admin(http.MethodGet, "/smsgate/export?realm=localhost", "")
			if code != http.StatusOK {
				t.Fatalf("export: %d %s", code, export)
			}
			if code, out := s.Admin(http.MethodPost, "/smsgate/devices/remove", fmt.Sprintf(`{"realm":"localhost","user":"alice","id":%q}`, phone)); code != http.StatusOK {
				t.Fatalf("removing the stolen phone: %d %s", code, out)
			}
			code, out := s.Admin(http.MethodPost, "/smsgate/import?realm=localhost", export)
			if code != http.StatusOK {
				t.Fatalf("import: %d %s", code, out)
			}
			t.Logf("the import: %s", out)
			if !strings.Contains(out, "1 device removed since the export was not restored") {
				t.Errorf("the import's answer %s does not say it left the removed phone out", out)
			}

			thief := sitetest.NewClient(t, "alice") // her password, and her phone
			sitetest.Expect(t, thief.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/.smsgate/verify")
			tok := thief.CSRF("/.smsgate/verify")
			sent := s.Sent()
			res := thief.Post("/.smsgate/verify", url.Values{"action": {"send"}, "device": {phone}, "csrf": {tok}})
			t.Logf("a code to the stolen phone asked for: %d %s", res.StatusCode, res.Header.Get("Location"))
			if s.Sent() > sent {
				if to := s.LogEntries("verification code"); strings.HasSuffix(fmt.Sprint(to[len(to)-1]["to"]), stolen[len(stolen)-3:]) {
					t.Errorf("a code was sent to the removed phone after the import")
					res = thief.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}})
				}
			}
			if res.StatusCode == http.StatusSeeOther && res.Header.Get("Location") == "/" || thief.Get("/").StatusCode == http.StatusOK {
				t.Fatalf("the removed phone signed in after the import: %d %s", res.StatusCode, res.Header.Get("Location"))
			}
		})
	}
}

// TestAFullRecordOfRemovalsBringsNoRemovedPhoneBack: after the stolen
// phone is removed, 500 more removals (a thief still signed in adds and
// removes an app from the devices page, in seconds) push it out of the
// store's record of removals (the newest 500 a user). Here that record
// comes in an import (an export carries it, and an import adds its names
// to the store's: 500 removals' worth, as an export after the churn would
// hold; 1,000 admin calls cost the package 4-5 s of CPU). The backup taken
// before, imported, leaves the stolen phone out all the same: a full
// record takes out whatever the store does not hold now. Before, the
// import wrote it back, silently ("not_restored" empty). On Badger,
// through a real Caddy.
func TestAFullRecordOfRemovalsBringsNoRemovedPhoneBack(t *testing.T) {
	sitetest.Parallel(t)
	const stolen, kept = "+14155550111", "+14155550122"
	s := sitetest.Start(t, fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	basic_auth argon2id {
		alice %[1]s
	}
	smsgate {
		store badger {DIR}
		provider log
%[2]s	}
	respond "Hello, {http.auth.user.id}!"
}`, sitetest.DemoHash, limitsOff))
	phone := addUser(t, s, "alice", stolen)
	addUser(t, s, "alice", kept)
	code, export := s.Admin(http.MethodGet, "/smsgate/export?realm=localhost", "")
	if code != http.StatusOK {
		t.Fatalf("export: %d %s", code, export)
	}
	if code, out := s.Admin(http.MethodPost, "/smsgate/devices/remove", fmt.Sprintf(`{"realm":"localhost","user":"alice","id":%q}`, phone)); code != http.StatusOK {
		t.Fatalf("removing the stolen phone: %d %s", code, out)
	}
	removals := func() (key string, names []string) { // alice's record, as an export carries it
		var records []struct {
			Key   string
			Value json.RawMessage
		}
		if code, out := s.Admin(http.MethodGet, "/smsgate/export?realm=localhost", ""); code != http.StatusOK || json.Unmarshal([]byte(out), &records) != nil {
			t.Fatalf("export: %d %s", code, out)
		}
		for _, r := range records {
			if strings.HasPrefix(r.Key, "removed-device/") && strings.HasSuffix(r.Key, "/alice") {
				_ = json.Unmarshal(r.Value, &names)
				return r.Key, names
			}
		}
		t.Fatalf("no record of alice's removals in the export")
		return "", nil
	}
	key, names := removals()
	if !slices.Equal(names, []string{phone}) {
		t.Fatalf("alice's record of removals: %v; want the stolen phone's %s", names, phone)
	}
	churned := make([]string, 500)
	for i := range churned {
		churned[i] = fmt.Sprintf("%s%03d", phone[:len(phone)-3], i) // IDs like a device's
	}
	file, _ := json.Marshal([]map[string]any{{"key": key, "value": churned}})
	if code, out := s.Admin(http.MethodPost, "/smsgate/import?realm=localhost", string(file)); code != http.StatusOK {
		t.Fatalf("importing 500 removals: %d %s", code, out)
	}
	if _, names = removals(); len(names) != 500 || slices.Contains(names, phone) {
		t.Fatalf("alice's record after 500 more removals: %d names, the stolen phone's among them: %v", len(names), slices.Contains(names, phone))
	}
	code, out := s.Admin(http.MethodPost, "/smsgate/import?realm=localhost", export)
	if code != http.StatusOK {
		t.Fatalf("import: %d %s", code, out)
	}
	t.Logf("the import: %s", out)
	if !strings.Contains(out, "1 device removed since the export was not restored") {
		t.Errorf("the import's answer %s does not say it left the removed phone out", out)
	}
	if code, users := s.Admin(http.MethodGet, "/smsgate/users?realm=localhost", ""); code != http.StatusOK || strings.Contains(users, phone) || !strings.Contains(users, kept[len(kept)-3:]) {
		t.Fatalf("after the import (%d), the removed phone %s is back, or the kept one gone: %s", code, phone, users)
	}
}
