package caddymodule_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestAnImportBringsNoEndedSessionBack: a thief holds a copy of alice's
// session cookie. The admin revokes alice (every session ends) and then
// imports an export taken before (a restore of her devices, or an import
// that was running while she was revoked). Before, the import wrote the
// export's record of alice's earlier revocation over the later one: a gate
// that knows only the store (restarted, reloaded, another instance) let
// the thief in again as alice, though the revocation had been
// acknowledged. Now an import keeps the later of the two: a revocation
// never moves back. On Badger and on a real Redis.
func TestAnImportBringsNoEndedSessionBack(t *testing.T) {
	sitetest.Parallel(t)
	for _, on := range []string{"badger", "redis"} {
		t.Run(on, func(t *testing.T) {
			st := storeOn(t, on)
			s := sitetest.Start(t, aliceSite(st))
			if on == "badger" {
				st = "badger " + s.Store // the same store from now on
			}
			revoke := func() {
				t.Helper()
				s.Advance(time.Minute)
				if code, out := s.Admin(http.MethodPost, "/smsgate/revoke", `{"realm":"localhost","user":"alice"}`); code != http.StatusOK {
					t.Fatalf("revoke: %d %s", code, out)
				}
				s.Advance(time.Minute)
			}
			alice := sitetest.NewClient(t, "alice")
			sitetest.Enroll(t, s, alice, "+14155552671")
			revoke() // an earlier revocation: the store holds its record
			signIn(t, s, alice)
			thief := sitetest.NewClient(t, "alice")
			thief.SetCookie("smsgate_session", alice.Cookie("smsgate_session"))
			sitetest.Expect(t, thief.Get("/"), http.StatusOK, "")
			code, export := s.Admin(http.MethodGet, "/smsgate/export?realm=localhost", "")
			if code != http.StatusOK {
				t.Fatalf("export: %d %s", code, export)
			}

			revoke() // her phone and laptop stolen: every session of hers ends
			sitetest.Expect(t, thief.Get("/"), http.StatusFound, "/.smsgate/login?rd=%2F")
			if code, out := s.Admin(http.MethodPost, "/smsgate/import?realm=localhost", export); code != http.StatusOK {
				t.Fatalf("import: %d %s", code, out)
			}
			sitetest.Expect(t, thief.Get("/"), http.StatusFound, "/.smsgate/login?rd=%2F")

			// A gate that knows only the store: the config loaded again.
			s = sitetest.Start(t, aliceSite(st))
			if res := thief.Get("/"); res.StatusCode != http.StatusFound {
				t.Fatalf("the revoked session after the import, at a gate started since: %d %q", res.StatusCode, res.Text)
			}
			sitetest.Expect(t, alice.Get("/"), http.StatusFound, "/.smsgate/login?rd=%2F")
		})
	}
}

// aliceSite is a site where alice (sitetest.DemoHash) signs in by
// basic_auth and then the gate, on store st.
func aliceSite(st string) string {
	return fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	basic_auth argon2id {
		alice %[1]s
	}
	smsgate {
		store %[2]s
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`, sitetest.DemoHash, st)
}

// storeOn is a store line's arguments for on ("badger": a new folder;
// "redis": a new redis-server, its gate stopped before it).
func storeOn(t *testing.T, on string) string {
	if on != "redis" {
		return "badger {DIR}"
	}
	st := "redis " + redistest.Server(t)
	t.Cleanup(func() { down(t) }) // before the Redis stops
	return st
}
