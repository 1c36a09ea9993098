package caddymodule_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/pages"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestAnEndAfterAMoveFollowsAStepUpMadeBefore (endrace41): alice signs in
// and proves herself again in the same browser (a step-up: her session
// there is replaced by a new one). The admin then moves the realm to a
// new store with the keys (export --with-keys, then import), and, on the
// new store, ends alice's first session by its SID (the admin API): the
// end answers "ended", and the browser is signed out, its new session
// ended with the one it replaced, as on the store it came from. Before,
// the export carried no record of the replacement (`replaced-by/`), nor
// the import her list of sessions: the end answered that there was no
// such session, and the new one lived. On Badger and on a real Redis,
// through a real Caddy.
func TestAnEndAfterAMoveFollowsAStepUpMadeBefore(t *testing.T) {
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
			oldSID := sessionID(t, alice.Cookie(pages.SessionCookie))
			stepUp(t, s, alice, false)
			if sessionID(t, alice.Cookie(pages.SessionCookie)) == oldSID {
				t.Fatal("the step-up set no new session")
			}
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
			moved = sitetest.Start(t, config(to, "new store, restarted")) // knows only the store
			if res := alice.Get("/"); res.StatusCode != http.StatusOK || !strings.Contains(res.Text, "new store, restarted") {
				t.Fatalf("the step-up's session on the new store: %d %q", res.StatusCode, res.Text)
			}
			st, out := moved.Admin(http.MethodPost, "/smsgate/sessions/end", fmt.Sprintf(`{"realm":"localhost","user":"alice","id":%q}`, oldSID))
			if st != http.StatusOK || !strings.Contains(out, "ended") {
				t.Errorf("the admin's end of the replaced session after the move: %d %s", st, out)
			}
			if res := alice.Get("/"); res.StatusCode == http.StatusOK {
				t.Error("the session the step-up made lives after the admin ended the one it replaced, after a move")
			}
		})
	}
}
