package caddymodule_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestWipedStoreFreezesEnrollment: Redis restarts without persistence and
// loses alice's phone. Whoever knows her basic_auth password must not
// enroll a phone of their own for her: the gate noticed the store forgot,
// says so loudly (an error in the log, the smsgate_store_frozen event) and
// pauses new enrollments — at once, before its watch looks — until the
// admin accepts the new state. Then enrollment goes on.
//
// It runs with the in-process Caddy, whose events the recorder keeps.
func TestWipedStoreFreezesEnrollment(t *testing.T) {
	resetEvents()
	r := redistest.Start(t)
	s := sitetest.StartWith(t, "events {\n\t\ton smsgate_store_frozen smsgate_test_recorder\n\t\ton smsgate_store_accepted smsgate_test_recorder\n\t}",
		redisSite(r.Addr, "alice", "bob"))
	sitetest.Enroll(t, s, sitetest.NewClient(t, "alice"), "+14155552671")

	r.Restart() // no append-only file: every device and the secret are gone
	mallory := sitetest.NewClient(t, "alice")
	var res *sitetest.Response
	for start := time.Now(); ; time.Sleep(100 * time.Millisecond) {
		// The form itself is refused once the gate knows (its watch
		// may have noticed first, on a slow machine); else the enrollment.
		if res = mallory.Get("/.smsgate/enroll"); res.StatusCode == http.StatusOK {
			tok := sitetest.CSRFField.FindStringSubmatch(res.Text)[1]
			res = mallory.Post("/.smsgate/enroll", url.Values{"phone": {"+14155550199"}, "csrf": {tok}})
		}
		if !strings.Contains(res.Text, "unavailable") || time.Since(start) > 10*time.Second {
			break // past the client's reconnection
		}
	}
	sitetest.Expect(t, res, http.StatusServiceUnavailable, "")
	sitetest.ExpectBody(t, res, "New enrollments are paused")
	if s.Sent() != 1 {
		t.Fatalf("a code was sent to a new phone for alice after the wipe: %d messages", s.Sent())
	}
	frozen := s.LogEntries("the store lost its data: new users cannot enroll until an admin accepts the new state (caddy smsgate accept-store) or imports an export")
	if len(frozen) == 0 || frozen[0]["level"] != "error" || frozen[0]["reason"] != "the store came back without its data" {
		t.Fatalf("the log does not say it loudly: %v", frozen)
	}
	if e := recordedEvent("smsgate_store_frozen"); e == nil || e["reason"] != "the store came back without its data" {
		t.Fatalf("no smsgate_store_frozen event: %v", e)
	}
	// Bob is new, but the gate cannot tell: he waits too.
	bob := sitetest.NewClient(t, "bob")
	sitetest.Expect(t, bob.Get("/.smsgate/enroll"), http.StatusServiceUnavailable, "")

	// The admin accepts the new state: enrollment goes on (once).
	if st, body := sitetest.Admin(t, "POST", "/smsgate/store/accept", `{}`); st != 200 || !strings.Contains(body, `"was":"the store came back without its data"`) {
		t.Fatalf("accept-store: %d %s", st, body)
	}
	if st, body := sitetest.Admin(t, "POST", "/smsgate/store/accept", `{}`); st != http.StatusConflict || !strings.Contains(body, "not frozen") {
		t.Fatalf("accepting twice: %d %s", st, body)
	}
	if e := recordedEvent("smsgate_store_accepted"); e == nil {
		t.Fatal("no smsgate_store_accepted event")
	}
	tok := bob.CSRF("/.smsgate/enroll")
	sitetest.Expect(t, bob.Post("/.smsgate/enroll", url.Values{"phone": {"+14155552672"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.ExpectEnrolled(t, bob.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), "/")
}

// TestRestoreAcceptsAWipedStore: after a wipe, importing the export made
// before it brings the users back and lifts the freeze (a restore is the
// admin's word); alice signs in with her own phone, nobody enrolls another.
func TestRestoreAcceptsAWipedStore(t *testing.T) {
	sitetest.Parallel(t)
	r := redistest.Start(t)
	s := sitetest.Start(t, redisSite(r.Addr, "alice"))
	sitetest.Enroll(t, s, sitetest.NewClient(t, "alice"), "+14155552671")
	_, backup := sitetest.Admin(t, "POST", "/smsgate/export?with_keys=1", "")

	r.Restart()
	for start := time.Now(); ; time.Sleep(100 * time.Millisecond) {
		st, body := sitetest.Admin(t, "POST", "/smsgate/import", backup)
		if st == 200 {
			if !strings.Contains(body, `"store_accepted":true`) {
				t.Fatalf("the import into the wiped store: %s", body)
			}
			break
		}
		if time.Since(start) > 30*time.Second { // a hang guard: the client reconnects in about a second
			t.Fatalf("import after the wipe: %d %s", st, body)
		}
	}
	// Alice's phone is back: her sign-in is a code to it, not an enrollment.
	again := sitetest.NewClient(t, "alice")
	sitetest.Expect(t, again.Get("/.smsgate/login"), http.StatusSeeOther, "/.smsgate/verify")
	tok := again.CSRF("/.smsgate/verify")
	sitetest.Expect(t, again.Post("/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	if to := s.LogEntries("verification code"); to[len(to)-1]["to"] != "+1•••••••671" {
		t.Fatalf("the code went to %v", to[len(to)-1]["to"])
	}
	sitetest.Expect(t, again.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")
}

// redisSite is a site whose basic_auth users (password demo) enroll on
// the redis-server at addr.
func redisSite(addr string, users ...string) string {
	var b strings.Builder
	for _, u := range users {
		fmt.Fprintf(&b, "\t\t%s %s\n", u, sitetest.DemoHash)
	}
	return fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	basic_auth argon2id {
%s	}
	smsgate {
		store redis %s
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`, b.String(), addr)
}

func resetEvents() {
	recorded.Lock()
	recorded.events = nil
	recorded.Unlock()
}

// recordedEvent is the data of the last event named name, or nil.
func recordedEvent(name string) map[string]any {
	recorded.Lock()
	defer recorded.Unlock()
	for i := len(recorded.events) - 1; i >= 0; i-- {
		if recorded.events[i].Name() == name {
			return recorded.events[i].Data
		}
	}
	return nil
}
