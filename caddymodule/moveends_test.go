package caddymodule_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestAMoveBringsNoLoggedOutSessionBack: a thief holds a copy of alice's
// session cookie; alice logs out, and the copy is refused. The admin then
// moves the realm to a new store with the keys (export --with-keys, then
// import). Before, the export carried no single session's end: on the new
// store, which signs with the same key, the copy was alice again (200).
// Now the export carries the logout's end with its session's expiry, the
// import writes it for what is left of it, and the copy is refused there
// too, by a gate that knows only the new store. On Badger and on a real
// Redis.
func TestAMoveBringsNoLoggedOutSessionBack(t *testing.T) {
	sitetest.Parallel(t)
	config := func(st, name string) string {
		return fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	basic_auth argon2id {
		alice %[1]s
	}
	smsgate {
		store %[2]s
		provider log
	}
	respond "Hello, {http.auth.user.id}! (%[3]s)"
}`, sitetest.DemoHash, st, name)
	}
	for _, on := range []string{"badger", "redis"} {
		t.Run(on, func(t *testing.T) {
			from, to := "badger {DIR}", "badger {DIR}"
			if on == "redis" {
				from, to = "redis "+redistest.Server(t), "redis "+redistest.Server(t)
				t.Cleanup(func() { down(t) }) // before the Redis servers stop
			}
			s := sitetest.Start(t, config(from, "old store"))
			alice := sitetest.NewClient(t, "alice")
			sitetest.Enroll(t, s, alice, "+14155552671")
			thief := sitetest.NewClient(t, "alice")
			thief.SetCookie("smsgate_session", alice.Cookie("smsgate_session"))
			sitetest.Expect(t, thief.Get("/"), http.StatusOK, "")
			tok := sitetest.CSRFField.FindStringSubmatch(alice.Get("/.smsgate/logout").Text)[1]
			sitetest.Expect(t, alice.Post("/.smsgate/logout", url.Values{"csrf": {tok}}), http.StatusOK, "")
			sitetest.Expect(t, thief.Get("/"), http.StatusFound, "/.smsgate/login?rd=%2F")
			code, export := s.Admin(http.MethodPost, "/smsgate/export?realm=localhost&with_keys=1", "")
			if code != http.StatusOK {
				t.Fatalf("export: %d %s", code, export)
			}

			down(t)
			moved := sitetest.Start(t, config(to, "new store"))
			if on == "badger" {
				to = "badger " + moved.Store
			}
			if code, out := moved.Admin(http.MethodPost, "/smsgate/import?realm=localhost", export); code != http.StatusOK {
				t.Fatalf("import: %d %s", code, out)
			}
			sitetest.Start(t, config(to, "new store, restarted")) // knows only the store
			if res := thief.Get("/"); res.StatusCode != http.StatusFound {
				t.Fatalf("the logged-out session's copy after a move with the keys: %d %q", res.StatusCode, res.Text)
			}
		})
	}
}
