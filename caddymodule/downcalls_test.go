package caddymodule_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// background is what the gate asks its store beside its requests (the
// watch, the figures, recent events, revocations) or a new connection's
// handshake: not a page's.
var background = regexp.MustCompile(`^(hello|client|auth|select|ping|info)\b|smsgate:(epoch|secret|signing|keys/|figures/|recent/|revocation)`)

// TestADownStoreIsAskedLittle: with a store that refuses every command,
// then Redis stopped, then paused (a hung server: connections open, no
// answer), each page that needs the store answers 503 (or a redirect),
// never a 500 or the driver's text, after asking it little: a flow stops at
// its first store error, and a request's store work has a budget
// (store.RequestBudget) that a hung server uses up once, not once a call.
// The round trips are counted through a proxy in front of Redis
// (redistest.Watch), and bounded where they are exact: against the store
// that refuses (go-redis does not try an error reply again), one round trip
// a page. Before, an enrollment asked twice and a logout went on to its
// write. The times are logged, not asserted (a busy machine is slow),
// except one bound per page, the budget's with room for a loaded machine
// (4× RequestBudget): before, on a hung Redis a
// typed code took 40 s, a send 15 s, an enrollment 10 s (go-redis's 5 s
// read timeout on each call in a row).
func TestADownStoreIsAskedLittle(t *testing.T) {
	sitetest.Parallel(t)
	for _, how := range []string{"refusing", "stopped", "paused"} {
		t.Run(how, func(t *testing.T) { askedLittle(t, how) })
	}
}

func askedLittle(t *testing.T, how string) {
	sitetest.Parallel(t)
	{
		r := redistest.Start(t)
		w := redistest.Watched(t, r.Addr)
		s := sitetest.Start(t, fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	basic_auth argon2id {
		alice %[1]s
		bob %[1]s
	}
	smsgate {
		store redis %[2]s
		site_origin http://localhost:{HTTP_PORT}
		channels sms voice
		admins alice
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`, sitetest.DemoHash, w.Addr))
		alice := sitetest.NewClient(t, "alice")
		tok := alice.CSRF("/.smsgate/enroll")
		sitetest.Expect(t, alice.Post("/.smsgate/enroll", url.Values{"phone": {"+14155552671"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
		sitetest.ExpectEnrolled(t, alice.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), "/")
		sitetest.ExpectBody(t, alice.Get("/"), "Hello, alice!")
		aliceTok := alice.CSRF("/.smsgate/devices")
		bob := sitetest.NewClient(t, "bob")
		bobTok := bob.CSRF("/.smsgate/enroll")
		sitetest.Expect(t, bob.Post("/.smsgate/enroll", url.Values{"phone": {"+14155552672"}, "csrf": {bobTok}}), http.StatusSeeOther, "/.smsgate/verify")
		// The pages wait out their budget: a shorter one (the bound below
		// stays RequestBudget's).
		s.Shorten("request-budget", 500*time.Millisecond)
		switch how {
		case "refusing":
			w.Refuse(true)
		case "stopped":
			r.Stop()
			w.Close() // its port refuses, as the server's: go-redis dials it as it would a stopped Redis
		case "paused":
			r.Pause()
		}
		form := func(tok string, kv ...string) url.Values {
			v := url.Values{"csrf": {tok}}
			for i := 0; i < len(kv); i += 2 {
				v.Set(kv[i], kv[i+1])
			}
			return v
		}
		var wg sync.WaitGroup
		for _, tc := range []struct {
			what string
			do   func() *sitetest.Response
		}{
			{"bob POST enroll", func() *sitetest.Response {
				return bob.Post("/.smsgate/enroll", form(bobTok, "phone", "+14155552673"))
			}},
			{"bob POST verify (a code)", func() *sitetest.Response { return bob.Post("/.smsgate/verify", form(bobTok, "code", "123456")) }},
			{"bob POST verify (no code)", func() *sitetest.Response { return bob.Post("/.smsgate/verify", form(bobTok)) }},
			{"bob POST verify send", func() *sitetest.Response { return bob.Post("/.smsgate/verify", form(bobTok, "action", "send")) }},
			{"bob POST verify call", func() *sitetest.Response { return bob.Post("/.smsgate/verify", form(bobTok, "action", "call")) }},
			{"bob GET verify", func() *sitetest.Response { return bob.Get("/.smsgate/verify") }},
			{"alice GET devices", func() *sitetest.Response { return alice.Get("/.smsgate/devices") }},
			{"alice POST devices rename", func() *sitetest.Response {
				return alice.Post("/.smsgate/devices", form(aliceTok, "action", "rename", "device", "x", "name", "n"))
			}},
			{"alice POST devices signout-all", func() *sitetest.Response {
				return alice.Post("/.smsgate/devices", form(aliceTok, "action", "signout-all", "confirm", "1"))
			}},
			{"alice GET console", func() *sitetest.Response { return alice.Get("/.smsgate/admin/") }},
			{"alice GET console user", func() *sitetest.Response { return alice.Get("/.smsgate/admin/user?name=bob") }},
			{"alice POST logout", func() *sitetest.Response { return alice.Post("/.smsgate/logout", form(aliceTok)) }},
		} {
			page := func() {
				w.Seen()
				start := time.Now()
				res := tc.do()
				took := time.Since(start)
				var asked []string
				for _, trip := range w.Seen() {
					if !background.MatchString(trip[0]) {
						asked = append(asked, strings.Join(trip, " + "))
					}
				}
				t.Logf("%s, %s: %d after %s, %d round trips: %s", how, tc.what, res.StatusCode, took.Round(10*time.Millisecond), len(asked), strings.Join(asked, ", "))
				if res.StatusCode == http.StatusInternalServerError || rawFault.MatchString(res.Text) {
					t.Errorf("%s, %s: %d\n%.300s", how, tc.what, res.StatusCode, res.Text)
				}
				if how == "refusing" && len(asked) > 1 {
					t.Errorf("%s, %s: went on after the store's first error: %s", how, tc.what, strings.Join(asked, ", "))
				}
				// The budget's bound, with room for a loaded machine: a page
				// waits out at most RequestBudget (3 s), twice with a send's
				// take-back (6 s); 4× RequestBudget leaves 6 s for a load of 30
				// on two cores, and is still below the 15-40 s of a budget per call.
				if took > 4*store.RequestBudget {
					t.Errorf("%s, %s: answered after %s", how, tc.what, took.Round(time.Second))
				}
			}
			if how != "refusing" {
				// No round trip is counted there (a closed proxy, a paused
				// server): the pages at once, each waiting out its dials or
				// its budget.
				wg.Go(page)
			} else {
				page()
			}
		}
		wg.Wait()
		if how == "paused" {
			r.Resume()
		}
	}
}
