package caddymodule_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestReloadKeepsTheCounts: a reload ends the old config's gate, whose
// last counts (the figures' tally, flushed every admin.FlushEvery) are
// written as it stops. Caddy cleans up a config's modules in no set order;
// the gate's store (on Redis, a client of its own) must still be open
// then, or each reload may lose up to five seconds of counts.
func TestReloadKeepsTheCounts(t *testing.T) {
	sitetest.Parallel(t)
	addr := redistest.Server(t)
	const rounds = 8
	var users strings.Builder
	for i := range rounds {
		fmt.Fprintf(&users, "\t\tuser%d %s\n", i, sitetest.DemoHash)
	}
	var s *sitetest.Site
	for i := range rounds {
		// Each round a new config (its site's name), so a reload.
		s = sitetest.Start(t, fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	basic_auth argon2id {
%s	}
	smsgate {
		store redis %s
		provider log
		site_name "Wiki %d"
	}
	respond ok
}`, users.String(), addr, i))
		c := sitetest.NewClient(t, fmt.Sprint("user", i))
		tok := c.CSRF("/.smsgate/enroll")
		sitetest.Expect(t, c.Post("/.smsgate/enroll", url.Values{"phone": {fmt.Sprintf("+1415555%04d", 2671+i)}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	}
	figures := totals(t, s)
	if got := figures.CodesSent; got != rounds {
		t.Fatalf("%d codes sent counted across %d reloads, want %d: a stopped gate's last counts were lost", got, rounds-1, rounds)
	}
}

// totals are the admin's figures of today, as the admin API gives them.
type figuresTotals struct {
	Texts     int64 `json:"texts"`
	CodesSent int64 `json:"codes_sent"`
}

func totals(t *testing.T, s *sitetest.Site) figuresTotals {
	t.Helper()
	status, raw := s.Admin(http.MethodGet, "/smsgate/figures?days=1", "")
	var figures struct{ Total figuresTotals }
	if err := json.Unmarshal([]byte(raw), &figures); status != http.StatusOK || err != nil {
		t.Fatalf("figures: %d %v %s", status, err, raw)
	}
	return figures.Total
}

// TestARequestHeldAcrossAReload: requests still in a handler before the
// gate (here a forward_auth, parked) when the config is reloaded reach the
// old gate only after its Cleanup, with nothing else in flight: its store
// is let go of (on Redis, a client of its own, closed). A reload that left
// the gate's configuration as it was (it changed the site around it, as
// most reloads do) hands them to the gate that replaced it, which checks
// them in full: a page (an enrollment: its code sent, good on the new
// config), a session the old gate had not cached, the forward-auth check;
// each then goes on along its own route. Before, each was a 503 (on
// Badger, before that, served). A reload that changed the gate's
// configuration leaves nobody to hand on to: the old gate touches nothing
// and hands the request to the running config's server on its address,
// which serves it whole (its code sent by the new gate; before, a 503 with
// Retry-After: TestARequestAtAChangedGateIsServedByTheRunningConfig).
func TestARequestHeldAcrossAReload(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, keep func(*sitetest.Site) string) {
		arrived, release := make(chan struct{}), make(chan struct{})
		sso := parkingSSO(t, &arrived, &release)
		site := func(siteName string, i int) *sitetest.Site {
			return sitetest.Start(t, ssoSite(sso, fmt.Sprintf("%s\n\t\tprovider log\n\t\tsite_name %q", storeLine, siteName),
				fmt.Sprintf("config %d: {http.auth.user.id}", i), showErrors))
		}
		// park sends req, parked in the forward_auth until release.
		park := func(c *sitetest.Client, req *http.Request) func() (*http.Response, string) {
			req.SetBasicAuth(c.User, "demo")
			req.Header.Set("Accept", "text/html")
			req.Header.Set("X-Park", "1")
			answer := aside(t, c.HTTP, req)
			<-arrived
			return answer
		}
		enroll := func(s *sitetest.Site, c *sitetest.Client, form url.Values) func() (*http.Response, string) {
			req, _ := http.NewRequest(http.MethodPost, s.Base+"/.smsgate/enroll", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return park(c, req)
		}
		get := func(s *sitetest.Site, c *sitetest.Client, path string) func() (*http.Response, string) {
			req, _ := http.NewRequest(http.MethodGet, s.Base+path, nil)
			return park(c, req)
		}

		s := site("Wiki", 1)
		storeLine = keep(s)
		bob := sitetest.NewClient(t, "bob")
		sitetest.Enroll(t, s, bob, "+14155550100")
		s = site("Wiki", 2) // bob's session in the first gate's cache, not in this one's
		alice := sitetest.NewClient(t, "alice")
		form := url.Values{"phone": {"+14155552671"}, "csrf": {alice.CSRF("/.smsgate/enroll")}}
		enrolled, page, checked := enroll(s, alice, form), get(s, bob, "/"), get(s, bob, "/.smsgate/auth")
		old := s
		s = site("Wiki", 3) // the same gate: handed on
		close(release)
		if res, body := enrolled(); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/.smsgate/verify" {
			t.Errorf("an enrollment that reached the gate after its Cleanup: %d %s\n%s", res.StatusCode, res.Header.Get("Location"), body)
		}
		if res, body := page(); res.StatusCode != http.StatusOK || body != "config 2: bob" {
			t.Errorf("a session the old gate had not cached, after its Cleanup: %d %q", res.StatusCode, body)
		}
		if res, body := checked(); res.StatusCode != http.StatusOK || res.Header.Get("Remote-User") != "bob" {
			t.Errorf("a forward-auth check that reached the gate after its Cleanup: %d %q\n%s", res.StatusCode, res.Header.Get("Remote-User"), body)
		}
		if n := old.Sent(); n != 0 {
			t.Fatalf("%d codes sent by a gate Caddy had cleaned up", n)
		}
		sitetest.ExpectEnrolled(t, alice.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": form["csrf"]}), "/")
		sitetest.ExpectBody(t, alice.Get("/"), "config 3: alice")

		arrived, release = make(chan struct{}), make(chan struct{})
		carol := sitetest.NewClient(t, "carol")
		form = url.Values{"phone": {"+14155552672"}, "csrf": {carol.CSRF("/.smsgate/enroll")}}
		enrolled = enroll(s, carol, form)
		old, sent := s, s.Sent()    // alice's code
		s = site("Another wiki", 4) // another gate: nobody to hand on to
		close(release)
		if res, body := enrolled(); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/.smsgate/verify" {
			t.Fatalf("an enrollment that reached a changed gate after its Cleanup: %d %s, Retry-After %q\n%s", res.StatusCode, res.Header.Get("Location"), res.Header.Get("Retry-After"), body)
		}
		if n := old.Sent() - sent; n != 0 {
			t.Fatalf("%d codes sent by a gate Caddy had cleaned up", n)
		}
		sitetest.ExpectEnrolled(t, carol.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": form["csrf"]}), "/")
		sitetest.ExpectBody(t, carol.Get("/"), "config 4: carol")
	})
}

// parkingSSO is a forward_auth server that names the request's basic-auth
// user (Remote-User); a request sent with X-Park it holds, telling
// *arrived, until *release is closed (the channels a test may make anew);
// once released, it holds none (a request handed to the running config's
// server comes by again).
// ssoSite is a site whose users sign in at sso (a forward_auth that sets
// Remote-User; parkingSSO's) and then pass a gate of the given lines
// before respond answers; extra goes at the site's end (showErrors).
func ssoSite(sso *httptest.Server, gate, respond, extra string) string {
	return fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	forward_auth %s {
		uri /verify
		copy_headers Remote-User
	}
	smsgate {
		identity {http.request.header.Remote-User}
		%s
	}
	respond %q
%s}`, strings.TrimPrefix(sso.URL, "http://"), gate, respond, extra)
}

// showErrors answers a refusal with its status and message.
const showErrors = "\thandle_errors {\n\t\trespond \"{err.status_code} {err.message}\" {err.status_code}\n\t}\n"

func parkingSSO(t *testing.T, arrived, release *chan struct{}) *httptest.Server {
	sso := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Park") != "" {
			select {
			case <-*release:
			default:
				*arrived <- struct{}{}
				<-*release
			}
		}
		user, _, _ := r.BasicAuth()
		w.Header().Set("Remote-User", user)
	}))
	t.Cleanup(sso.Close)
	return sso
}

// aside sends req from a goroutine of its own (while the test holds it up
// somewhere), and returns what waits for its answer: the response and its
// body, or the test failed with why there is none.
func aside(t *testing.T, c *http.Client, req *http.Request) (answer func() (*http.Response, string)) {
	type answered struct {
		res  *http.Response
		body []byte
		err  error
	}
	done := make(chan answered, 1)
	go func() {
		var a answered
		if a.res, a.err = c.Do(req); a.err == nil {
			a.body, a.err = io.ReadAll(a.res.Body)
			a.res.Body.Close()
		}
		done <- a
	}()
	return func() (*http.Response, string) {
		t.Helper()
		a := <-done
		if a.err != nil {
			t.Fatalf("%s %s: %v", req.Method, req.URL, a.err)
		}
		return a.res, string(a.body)
	}
}
