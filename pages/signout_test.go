package pages_test

import (
	"net/http"
	"net/url"
	"testing"

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
