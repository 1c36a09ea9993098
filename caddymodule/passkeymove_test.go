package caddymodule_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/fakes"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// withoutPasskeyRecords is an export as the previous release wrote it:
// without its passkey-user/ and passkey-credential/ records.
func withoutPasskeyRecords(t *testing.T, export string) string {
	t.Helper()
	var records []map[string]json.RawMessage
	if err := json.Unmarshal([]byte(export), &records); err != nil {
		t.Fatal(err)
	}
	var kept []map[string]json.RawMessage
	for _, r := range records {
		var key string
		_ = json.Unmarshal(r["key"], &key)
		key = strings.TrimPrefix(key, "b64:")
		if !strings.HasPrefix(key, "passkey-user/") && !strings.HasPrefix(key, "passkey-credential/") {
			kept = append(kept, r)
		}
	}
	if len(kept) == len(records) {
		t.Fatal("the export holds no passkey record")
	}
	raw, err := json.Marshal(kept)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// TestAMovedPasskeySignsInAtTheLoginForm (attack41b H1, H1b): a site's
// store moved to a new one (export with the keys, import, a gate that
// knows only the new store), as README's import row says a move is made,
// on Badger and on Redis: carol's passkey still signs her in at the login
// form (a discoverable sign-in, which reads which user its handle names),
// and dave, on the new store, cannot register a credential with her
// passkey's ID (WebAuthn §7.1 step 22). So too with a file of the previous
// release, which holds neither record: the import makes them from her
// device list. Before, the export carried neither: her passkey was listed
// and refused (400 passkey_refused) at every login form, and dave's copy
// of its ID was taken.
func TestAMovedPasskeySignsInAtTheLoginForm(t *testing.T) {
	sitetest.Parallel(t)
	config := func(st string) string {
		return fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		user carol +14155552671
		user dave +14155552672
		store %s
		provider log
	}
	respond "Hello, {http.auth.user.id} ({http.auth.user.amr})"
}`, st)
	}
	for _, on := range []string{"badger", "redis"} {
		t.Run(on, func(t *testing.T) {
			t.Cleanup(func() { down(t) })
			store := func() string {
				if on == "redis" {
					return "redis " + redistest.Server(t)
				}
				return "badger {DIR}"
			}
			s := sitetest.Start(t, config(store()))
			origin := s.WithPorts(s.Base)
			auth := fakes.NewAuthenticator("localhost", origin)
			call := func(c *sitetest.Client, step string, body []byte) *sitetest.Response {
				if body == nil {
					body = []byte("{}")
				}
				return c.PostJSON("/.smsgate/passkey/"+step, origin, json.RawMessage(body))
			}
			c := sitetest.NewClient(t, "")
			sitetest.SignIn(t, s, c)
			c.Get("/.smsgate/devices")
			answer, err := auth.Create([]byte(call(c, "register/begin", nil).Text))
			if err != nil {
				t.Fatal(err)
			}
			if res := call(c, "register/finish", answer); res.StatusCode != http.StatusOK {
				t.Fatalf("register: %d %s", res.StatusCode, res.Text)
			}
			login := func() *sitetest.Response {
				c := sitetest.NewClient(t, "")
				c.Get("/.smsgate/login")
				answer, err := auth.Get([]byte(call(c, "login/begin", nil).Text))
				if err != nil {
					t.Fatal(err)
				}
				return call(c, "login/finish", answer)
			}
			if res := login(); res.StatusCode != http.StatusOK {
				t.Fatalf("before the move: %d %s", res.StatusCode, res.Text)
			}
			code, export := s.Admin(http.MethodPost, "/smsgate/export?realm=localhost&with_keys=1", "")
			if code != http.StatusOK {
				t.Fatalf("export: %d %s", code, export)
			}
			for _, form := range []struct{ name, file string }{{"this release's", export}, {"the previous release's", withoutPasskeyRecords(t, export)}} {
				down(t)
				to := store()
				moved := sitetest.Start(t, config(to))
				if code, out := moved.Admin(http.MethodPost, "/smsgate/import?realm=localhost", form.file); code != http.StatusOK {
					t.Fatalf("%s export's import: %d %s", form.name, code, out)
				}
				if on == "badger" {
					to = "badger " + moved.Store
				}
				moved = sitetest.Start(t, config(to)) // knows only the store: the imported secret in use
				if res := login(); res.StatusCode != http.StatusOK {
					t.Errorf("%s export: carol's passkey, moved, at the login form: %d %s", form.name, res.StatusCode, res.Text)
				}
				dave := sitetest.NewClient(t, "")
				tok := dave.CSRF("/.smsgate/login")
				sitetest.Expect(t, dave.Post("/.smsgate/login", url.Values{"username": {"dave"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
				sitetest.Expect(t, dave.Post("/.smsgate/verify", url.Values{"code": {moved.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")
				dave.Get("/.smsgate/devices")
				copycat := fakes.NewAuthenticator("localhost", origin)
				copycat.CopyID(auth)
				answer, err := copycat.Create([]byte(call(dave, "register/begin", nil).Text))
				if err != nil {
					t.Fatal(err)
				}
				if res := call(dave, "register/finish", answer); res.StatusCode != http.StatusBadRequest {
					t.Errorf("%s export: after the move, dave registers carol's credential ID as his: %d %s", form.name, res.StatusCode, res.Text)
				}
			}
		})
	}
}
