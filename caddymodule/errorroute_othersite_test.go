package caddymodule_test

import (
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAnotherSiteBlocksErrorRouteDoesNotServeTheGatesRefusals: a
// handle_errors in another site block whose hosts cover the gate's (a
// catch-all http://, or *.example.com beside admin.example.com) runs for
// the gate's site when that has no handle_errors taking 401 of its own:
// Caddy puts each block's error routes on the server, behind the block's
// host matcher, and a catch-all's has none. The check reads the gate's
// own site block only, so this loads, and the refused request is served
// from the app: 200 "the app's page for [admin]". A KNOWN GAP, unfixed:
// this test fails on 60ccfa8 and after it, and is skipped unless
// SMSGATE_KNOWN_GAPS=1. A fix needs the other site blocks (the
// Caddyfile read again, as sourceFiles does; or the http app's adapted
// errors routes). Workaround: give the gate's site a handle_errors 401 of
// its own (Caddy stops at the first block whose hosts match).
func TestAnotherSiteBlocksErrorRouteDoesNotServeTheGatesRefusals(t *testing.T) {
	if os.Getenv("SMSGATE_KNOWN_GAPS") == "" {
		t.Skip("known gap (review rev3): another site block's handle_errors serves the gate's refusals; SMSGATE_KNOWN_GAPS=1 runs it")
	}
	sitetest.Parallel(t)
	sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		enrollment closed
		user carol +14155552671
		store badger {DIR}
		provider log
	}
	reverse_proxy localhost:{HTTP_PORT} {
		header_up Host app.localhost
	}
}
http:// {
	handle_errors {
		reverse_proxy localhost:{HTTP_PORT} {
			header_up Host app.localhost
		}
	}
}
http://app.localhost:{HTTP_PORT} {
	respond "the app's page for [{http.request.header.Remote-User}]"
}`)
	c := sitetest.NewClient(t, "")
	c.Accept = "application/json"
	if res := c.GetWith("/private", map[string]string{"Remote-User": "admin"}); res.StatusCode != http.StatusUnauthorized || strings.Contains(res.Text, "app's page") {
		t.Fatalf("a refused request was served by the app: %d %s", res.StatusCode, res.Text)
	}
}
