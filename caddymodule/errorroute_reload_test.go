package caddymodule_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAReplacedGatesAnswerIsNotServedByTheApp: a request still in a
// handler before the gate (a forward_auth) when a reload changes the
// gate's configuration reaches the old gate after its Cleanup, which
// answers 503 as a Caddy error (handOff: errReplaced), for handle_errors,
// where no running server listens on the request's address (here, one
// does: it is handed to it, whose gate refuses mallory, 401).
// The check of handle_errors read 401 only, so `handle_errors 404 5xx`
// to the app's own upstream — the codes its own message suggested — loaded,
// and that 503 was served by the app: mallory, who has the first factor
// (the SSO) and no code, with any session cookie at all, was answered 200
// "the app's page for [mallory]", the SSO's Remote-User reaching the app
// as if the gate had admitted her. It failed on 60ccfa8. Now a 503 (5xx)
// counts among the refusals handle_errors must not hand to the app
// (takesRefusals): such a config is refused at its line, and the config
// here is the same without the 5xx, which answers the 503 as Caddy does.
func TestAReplacedGatesAnswerIsNotServedByTheApp(t *testing.T) {
	sitetest.Parallel(t)
	arrived, release := make(chan struct{}), make(chan struct{})
	sso := parkingSSO(t, &arrived, &release)
	cfg := func(name, codes string) string {
		return fmt.Sprintf(`http://localhost:{HTTP_PORT} {
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
	handle_errors %s {
		reverse_proxy localhost:{HTTP_PORT} {
			header_up Host app.localhost
		}
	}
}
http://app.localhost:{HTTP_PORT} {
	respond "the app's page for [{http.request.header.Remote-User}]"
}`, strings.TrimPrefix(sso.URL, "http://"), name, codes)
	}
	sitetest.AssertLoadError(t, cfg("Wiki", "404 5xx"), "Caddyfile:16", "handle_errors hands the gate's refusals (401) to localhost:{HTTP_PORT}, the app smsgate protects")
	site := func(name string) *sitetest.Site { return sitetest.Start(t, cfg(name, "502")) }
	s := site("Wiki")
	mallory := sitetest.NewClient(t, "mallory")
	req, _ := http.NewRequest(http.MethodGet, s.Base+"/private", nil)
	req.SetBasicAuth("mallory", "demo")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-Park", "1")
	req.AddCookie(&http.Cookie{Name: "smsgate_session", Value: "anything"})
	answer := aside(t, mallory.HTTP, req)
	<-arrived
	site("Another wiki") // the gate's configuration changed: no gate to hand on to
	close(release)
	if res, body := answer(); strings.Contains(body, "app's page") {
		t.Fatalf("a request the replaced gate refused was served by the app: %d %q", res.StatusCode, body)
	}
}
