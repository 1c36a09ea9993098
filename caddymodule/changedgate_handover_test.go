package caddymodule_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestARequestAtAChangedGateIsServedByTheRunningConfig: bob's request is
// still in the forward_auth (parked) when an ordinary reload changes his
// gate (an admin added to `admins`), so it reaches the old gate after its
// Cleanup with no live gate of its configuration to hand on to. The
// running config's server on the same address serves it whole, its own
// routes and its own gate (which checks bob's session against the store,
// uncached): "config 2: bob", nothing sent or logged as a 503 by the old
// gate. (Before: a 503 with Retry-After, "replaced".)
func TestARequestAtAChangedGateIsServedByTheRunningConfig(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, keep func(*sitetest.Site) string) {
		arrived, release := make(chan struct{}), make(chan struct{})
		sso := parkingSSO(t, &arrived, &release)
		site := func(i int, admins string) *sitetest.Site {
			return sitetest.Start(t, ssoSite(sso, fmt.Sprintf("%s\n\t\tprovider log\n\t\t%s", storeLine, admins),
				fmt.Sprintf("config %d: {http.auth.user.id}", i), showErrors))
		}
		s := site(1, "")
		storeLine = keep(s)
		bob := sitetest.NewClient(t, "bob")
		sitetest.Enroll(t, s, bob, "+14155550100")
		req, _ := http.NewRequest(http.MethodGet, s.Base+"/", nil)
		req.SetBasicAuth(bob.User, "demo")
		req.Header.Set("X-Park", "1")
		answer := aside(t, bob.HTTP, req)
		<-arrived
		old, sent := s, s.Sent()
		s = site(2, "admins carol") // the gate's configuration changed
		close(release)
		if res, body := answer(); res.StatusCode != http.StatusOK || body != "config 2: bob" || res.Header.Get("Retry-After") != "" {
			t.Fatalf("bob's request at his gate, changed by a reload, after its Cleanup: %d %q (Retry-After %q); want the running config's 200", res.StatusCode, body, res.Header.Get("Retry-After"))
		}
		if said := old.LogEntries(handedToRunningAfterReload); len(said) != 1 || said[0]["event"] != "handed_to_running" {
			t.Errorf("the old gate's hand-over logged: %v", said)
		}
		if said := old.LogEntries(replacedWord); len(said) != 0 {
			t.Errorf("a 503 logged: %v", said)
		}
		if n := old.Sent() - sent; n != 0 {
			t.Fatalf("%d codes sent by a gate Caddy had cleaned up", n)
		}
		sitetest.ExpectBody(t, bob.Get("/"), "config 2: bob")
	})
}

// The old gate's words for a request it handed to the running config
// after a reload that changed it, and for its 503.
const (
	handedToRunningAfterReload = "a request reached its gate after a reload that changed it: served by the running config"
	replacedWord               = "a request reached its gate after a config reload; no live gate has its configuration: 503, to retry"
)
