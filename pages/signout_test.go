package pages_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestSignOutLeavesNobodySignedIn: at a login form (identity none), carol
// signs in on a shared computer and ticks "Trust this browser", then
// signs out ("You are signed out."). The next visitor of that computer must
// meet the login form, not carol's site: sign-out ends this browser's
// trust too, and a copy of its trust cookie taken before signs nobody in.
// (Before, the trust signed the browser in again as carol at the next
// visit — no code, no name typed: 303 to "/".)
func TestSignOutLeavesNobodySignedIn(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, trustSite)
	shared := sitetest.NewClient(t, "")
	signInTrusting(t, s, shared, true)
	trust := shared.Cookie("smsgate_trust")
	if trust == "" {
		t.Fatal("no trust cookie after ticking 'Trust this browser'")
	}

	sitetest.Expect(t, shared.Post("/.smsgate/logout", url.Values{"csrf": {shared.CSRF("/.smsgate/logout")}}), http.StatusOK, "")
	if res := shared.Get("/.smsgate/login?rd=%2F"); res.StatusCode != http.StatusOK {
		t.Fatalf("the next visit after carol signed out: %d %s, want the login form (200)", res.StatusCode, res.Header.Get("Location"))
	}
	if res := shared.Get("/"); res.StatusCode == http.StatusOK {
		t.Fatalf("signed in after signing out: %s", res.Text)
	}

	copied := sitetest.NewClient(t, "")
	copied.SetCookieFor(copied.Base()+"/.smsgate/", "smsgate_trust", trust)
	if res := copied.Get("/.smsgate/login?rd=%2F"); res.StatusCode != http.StatusOK {
		t.Fatalf("a copy of the signed-out browser's trust cookie: %d %s, want the login form (200)", res.StatusCode, res.Header.Get("Location"))
	}
}

// twoGateTrustSite is trustSite with the /admin gate's pages under its own
// path_prefix: two gates of one realm, each with its own trust cookie.
var twoGateTrustSite = strings.Replace(trustSite, "max_age 15m", "path_prefix /admin/.smsgate/", 1)

// TestSignOutEndsTheTrustItsSessionCameFrom: a browser trusted at one gate
// of the realm (its trust cookie under that gate's pages) and signed out
// at another is signed out: the session it ends names the trust it was
// signed in with, and that trust ends too.
func TestSignOutEndsTheTrustItsSessionCameFrom(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, twoGateTrustSite)
	shared := sitetest.NewClient(t, "")
	s.Advance(time.Minute)
	tok := shared.CSRF("/admin/.smsgate/login")
	sitetest.Expect(t, shared.Post("/admin/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/admin/.smsgate/verify")
	sitetest.Expect(t, shared.Post("/admin/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}, "remember": {"1"}}), http.StatusSeeOther, "/")
	if res := shared.Get("/"); res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Text, "Hello, carol ") {
		t.Fatalf("signed in at the admin's gate, the site's: %d %q", res.StatusCode, res.Text)
	}

	sitetest.Expect(t, shared.Post("/.smsgate/logout", url.Values{"csrf": {shared.CSRF("/.smsgate/logout")}}), http.StatusOK, "")
	if res := shared.Get("/admin/.smsgate/login?rd=%2F"); res.StatusCode != http.StatusOK {
		t.Fatalf("the admin's gate after carol signed out at the site's: %d %s, want its login form (200)", res.StatusCode, res.Header.Get("Location"))
	}
	if res := shared.Get("/"); res.StatusCode == http.StatusOK {
		t.Fatalf("signed in after signing out: %s", res.Text)
	}
}
