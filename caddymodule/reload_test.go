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
	basic_auth {
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

// TestARequestAfterCleanupIsToldToRetry: a request still in a handler
// before the gate (here a forward_auth, parked) when the config is
// reloaded reaches the old gate only after its Cleanup, with nothing else
// in flight: its store (on Redis, a client of its own) is closed. The gate
// touches nothing and answers 503 with Retry-After, through handle_errors;
// asked again, the new config serves it. On main the old gate served it
// from the closed store.
func TestARequestAfterCleanupIsToldToRetry(t *testing.T) {
	sitetest.Parallel(t)
	storeLine := "store redis " + redistest.Server(t)
	arrived, release := make(chan struct{}), make(chan struct{})
	sso := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Park") != "" {
			arrived <- struct{}{}
			<-release
		}
		w.Header().Set("Remote-User", "alice")
	}))
	t.Cleanup(sso.Close)
	site := func(i int) *sitetest.Site {
		return sitetest.Start(t, fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	forward_auth %s {
		uri /verify
		copy_headers Remote-User
	}
	smsgate {
		identity {http.request.header.Remote-User}
		%s
		provider log
		site_name "Wiki %d"
	}
	respond ok
	handle_errors {
		respond "{err.status_code} {err.message}" {err.status_code}
	}
}`, strings.TrimPrefix(sso.URL, "http://"), storeLine, i))
	}
	s := site(1)
	c := sitetest.NewClient(t, "")
	form := url.Values{"phone": {"+14155552671"}, "csrf": {c.CSRF("/.smsgate/enroll")}}
	answered := make(chan *http.Response, 1)
	go func() {
		// Not c.Post: it may not fail the test from here.
		req, _ := http.NewRequest(http.MethodPost, s.Base+"/.smsgate/enroll", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "text/html")
		req.Header.Set("X-Park", "1")
		res, err := c.HTTP.Do(req)
		if err != nil {
			t.Error(err)
		}
		answered <- res
	}()
	<-arrived
	old := s
	s = site(2) // the reload: the old gate is cleaned up, nothing in it in flight
	close(release)
	res := <-answered
	if res == nil {
		return
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" ||
		string(body) != "503 the site's configuration was just replaced: try again" {
		t.Fatalf("a request that reached the gate after its Cleanup: %d, Retry-After %q\n%s", res.StatusCode, res.Header.Get("Retry-After"), body)
	}
	if n := old.Sent(); n != 0 {
		t.Fatalf("%d codes sent by a gate Caddy had cleaned up", n)
	}
	sitetest.Expect(t, c.Post("/.smsgate/enroll", form), http.StatusSeeOther, "/.smsgate/verify")
}
