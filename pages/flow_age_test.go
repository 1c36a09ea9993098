package pages_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestASignInInProgressEnds: a sign-in in progress lasts 20 minutes left
// alone, and an hour from its start however busy it is kept. carol's
// browser shows the code step every quarter of an hour (each showing
// saves the flow again); an hour after the login the flow is over: the
// code step sends her to the login form, a code posted with the old form
// is told the form expired (403, no 500), and a new login signs her in.
// Before, each save gave the flow 20 minutes more from then: a flow in
// use (or a stolen flow cookie kept busy) lived forever.
func TestASignInInProgressEnds(t *testing.T) {
	sitetest.Parallel(t)
	s, c, _ := carolAtTheCode(t, "")
	for range 3 {
		s.Advance(15 * time.Minute)
		if res := c.Get("/.smsgate/verify"); res.StatusCode != http.StatusOK || !strings.Contains(res.Text, `name="code"`) {
			t.Fatalf("the code step within the hour: %d %s", res.StatusCode, res.Header.Get("Location"))
		}
	}
	tok := c.CSRF("/.smsgate/verify")
	s.Advance(15 * time.Minute)
	sitetest.Expect(t, c.Get("/.smsgate/verify"), http.StatusSeeOther, "/.smsgate/login")
	res := c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}})
	if res.StatusCode != http.StatusForbidden || !strings.Contains(res.Text, "This form has expired") {
		t.Fatalf("a code posted with the form of a flow an hour old: %d %s", res.StatusCode, res.Text)
	}
	sitetest.Expect(t, typeCarol(c), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {c.CSRF("/.smsgate/verify")}}), http.StatusSeeOther, "/")
}
