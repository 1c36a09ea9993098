package caddymodule_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// adminEndpoints is every admin API endpoint, with a body that reaches the
// store (a user that exists, a place, records to import).
var adminEndpoints = []struct{ method, path, body string }{
	{"GET", "/smsgate/users?realm=localhost", ""},
	{"POST", "/smsgate/users", `{"user":"dan","phone":"+14155552679"}`},
	{"POST", "/smsgate/devices/remove", `{"user":"dan","id":"x"}`},
	{"POST", "/smsgate/reset", `{"user":"dan"}`},
	{"POST", "/smsgate/revoke", `{"user":"dan"}`},
	{"GET", "/smsgate/sessions?user=dan", ""},
	{"POST", "/smsgate/sessions/end", `{"user":"dan","id":"x"}`},
	{"POST", "/smsgate/invites", `{"user":"erin"}`},
	{"GET", "/smsgate/export", ""},
	{"POST", "/smsgate/import", `[{"key":"device/localhost/zed","value":[]}]`},
	{"POST", "/smsgate/store/accept", `{}`},
	{"GET", "/smsgate/figures", ""},
	{"GET", "/smsgate/pumping", ""},
	{"POST", "/smsgate/pumping/resume", `{"place":"GB"}`},
}

// TestTheAdminAPIOnAHungStore: with Redis paused (a hung server:
// connections open, no answer), every admin endpoint answers 503 with a
// short message soon, as the pages do: an admin request's store work has
// the pages' budget (store.RequestBudget). Before, an admin request had
// none, and each call waited out go-redis's read timeout (5 s) in a row:
// the sessions, a session's end and the figures answered after 40 s,
// store/accept after 12 s, the users up to 10 s (a scan, not held to the
// budget: it now asks the store within it first), and the CLI waited as
// long. The times are logged; the bound is the budget's, with room for a
// loaded machine (4× RequestBudget).
func TestTheAdminAPIOnAHungStore(t *testing.T) {
	sitetest.Parallel(t)
	r := redistest.Start(t)
	s := sitetest.Start(t, fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		realm localhost
		store redis %s
		provider log
	}
	respond "hi"
}`, r.Addr))
	if st, body := s.Admin("POST", "/smsgate/users", `{"user":"dan","phone":"+14155552674"}`); st != http.StatusOK {
		t.Fatalf("add: %d %s", st, body)
	}
	// Each request waits out its budget: a shorter one (the bound below
	// stays RequestBudget's).
	s.Shorten("request-budget", 500*time.Millisecond)
	r.Pause()
	defer r.Resume()
	var wg sync.WaitGroup
	for _, tc := range adminEndpoints {
		wg.Go(func() {
			start := time.Now()
			st, body := s.Admin(tc.method, tc.path, tc.body)
			took := time.Since(start)
			t.Logf("%s %s: %d after %s", tc.method, tc.path, st, took.Round(10*time.Millisecond))
			if st != http.StatusServiceUnavailable || rawFault.MatchString(body) || !strings.Contains(body, "the store did not answer") {
				t.Errorf("admin %s %s with the store hung: %d %s", tc.method, tc.path, st, body)
			}
			// The budget's bound, with room for a loaded machine: an admin
			// request waits out RequestBudget (3 s) once; 4× leaves 9 s for a
			// load of 30 on two cores, and still catches the 40 s of a
			// budget per call.
			if took > 4*store.RequestBudget {
				t.Errorf("admin %s %s with the store hung answered after %s", tc.method, tc.path, took.Round(time.Second))
			}
		})
	}
	wg.Wait()
}
