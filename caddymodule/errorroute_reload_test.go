package caddymodule_test

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAReplacedGatesAnswerIsNotServedByTheApp: a request still in a
// handler before the gate (a forward_auth) when a reload changes the
// gate's configuration reaches the old gate after its Cleanup, which
// answers 503 as a Caddy error (handOff: errReplaced), for handle_errors.
// The check of handle_errors reads 401 only, so `handle_errors 404 5xx`
// to the app's own upstream — the codes its own message suggests — loads,
// and that 503 is served by the app: mallory, who has the first factor
// (the SSO) and no code, with any session cookie at all, is answered 200
// "the app's page for [mallory]", the SSO's Remote-User reaching the app
// as if the gate had admitted her. A KNOWN GAP, unfixed: fails on 60ccfa8
// and after; skipped unless SMSGATE_KNOWN_GAPS=1. A fix: count 503 (5xx)
// among the refusals handle_errors must not hand to the app
// (takesRefusals), or answer a request of the protected app's (not the
// gate's own pages) with the 503 itself rather than as an error.
func TestAReplacedGatesAnswerIsNotServedByTheApp(t *testing.T) {
	if os.Getenv("SMSGATE_KNOWN_GAPS") == "" {
		t.Skip("known gap (review rev3): a replaced gate's 503 goes through handle_errors 5xx to the app; SMSGATE_KNOWN_GAPS=1 runs it")
	}
	sitetest.Parallel(t)
	arrived, release := make(chan struct{}), make(chan struct{})
	sso := parkingSSO(t, &arrived, &release)
	site := func(name string) *sitetest.Site {
		return sitetest.Start(t, fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	forward_auth %s {
		uri /verify
		copy_headers Remote-User
	}
	smsgate {
		identity {http.request.header.Remote-User}
		store badger {DIR}
		provider log
		site_name %q
	}
	reverse_proxy localhost:{HTTP_PORT} {
		header_up Host app.localhost
	}
	handle_errors 404 5xx {
		reverse_proxy localhost:{HTTP_PORT} {
			header_up Host app.localhost
		}
	}
}
http://app.localhost:{HTTP_PORT} {
	respond "the app's page for [{http.request.header.Remote-User}]"
}`, strings.TrimPrefix(sso.URL, "http://"), name))
	}
	s := site("Wiki")
	mallory := sitetest.NewClient(t, "mallory")
	req, _ := http.NewRequest(http.MethodGet, s.Base+"/private", nil)
	req.SetBasicAuth("mallory", "demo")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-Park", "1")
	req.AddCookie(&http.Cookie{Name: "smsgate_session", Value: "anything"})
	answer := aside(t, mallory.HTTP, req)
	<-arrived
	site("Another wiki") // the gate's configuration changed: nobody to hand on to
	close(release)
	if res, body := answer(); strings.Contains(body, "app's page") {
		t.Fatalf("a request the replaced gate refused was served by the app: %d %q", res.StatusCode, body)
	}
}
