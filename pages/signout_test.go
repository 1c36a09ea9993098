package pages_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/session"
)

// These tests' hold store fails every read of a user's list of sessions
// while its file "fail" exists.
func init() {
	sitetest.Holds.Fail = func(key string) bool { return strings.HasPrefix(key, "sessions/") }
}

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

// signInAt signs c in as carol by text at the gate whose pages are at
// gate (a URL's start, up to its prefix), trusting the browser if trust.
func signInAt(t *testing.T, s *sitetest.Site, c *sitetest.Client, gate string, trust bool) {
	t.Helper()
	s.Advance(time.Minute) // past the last send's cooldown
	page := c.GetURL(gate + "login")
	tok := sitetest.CSRFField.FindStringSubmatch(page.Text)
	if tok == nil {
		t.Fatalf("GET %slogin: %d, no form", gate, page.StatusCode)
	}
	sitetest.Expect(t, c.PostURL(gate+"login", url.Values{"username": {"carol"}, "csrf": {tok[1]}}), http.StatusSeeOther, strings.TrimPrefix(gate, originOf(gate))+"verify")
	form := url.Values{"code": {s.LastCode()}, "csrf": {tok[1]}}
	if trust {
		form.Set("remember", "1")
	}
	sitetest.Expect(t, c.PostURL(gate+"verify", form), http.StatusSeeOther, "/")
}

// originOf is the scheme and host of a URL.
func originOf(u string) string {
	p, _ := url.Parse(u)
	return p.Scheme + "://" + p.Host
}

// trustSignsIn reports whether c's trust at gate signs it in (a GET of
// that gate's login with no session: 303 to "/"), not the login form.
func trustSignsIn(t *testing.T, c *sitetest.Client, gate string) bool {
	t.Helper()
	res := c.GetURL(gate + "login?rd=%2F")
	switch res.StatusCode {
	case http.StatusSeeOther:
		return true
	case http.StatusOK:
		return false
	}
	t.Fatalf("GET %slogin: %d %s", gate, res.StatusCode, res.Header.Get("Location"))
	return false
}

// signOutAt signs c out at gate.
func signOutAt(t *testing.T, c *sitetest.Client, gate string) {
	t.Helper()
	page := c.GetURL(gate + "logout")
	tok := sitetest.CSRFField.FindStringSubmatch(page.Text)
	if tok == nil {
		t.Fatalf("GET %slogout: %d, no form", gate, page.StatusCode)
	}
	sitetest.Expect(t, c.PostURL(gate+"logout", url.Values{"csrf": {tok[1]}}), http.StatusOK, "")
}

// TestSignOutEndsTheTrustsThisBrowserEarnedElsewhere: carol's browser
// earned a trust at another gate of the realm in an earlier session (its
// cookie where the gate signing out never sees it: under that gate's own
// path_prefix, or on another host under cookie_domain), then signed in
// here with a code and signs out here. That trust ends too: every gate of
// the realm sees the browser's known-browser cookie, and the trusts it
// earned carry its ID. Her other browser, trusted at that gate too, keeps
// its trust. (Before, the earlier trust signed the browser in again at its
// next visit to that gate: 303 to "/".)
func TestSignOutEndsTheTrustsThisBrowserEarnedElsewhere(t *testing.T) {
	sitetest.Parallel(t)
	gate := `smsgate {
		identity none
		user carol +14155552671
		realm sso.localhost
		cookie_domain sso.localhost
		session_lifetime 1h
		store badger {DIR}
		provider log
	}`
	for _, c := range []struct{ name, site, there, here string }{
		{"path_prefix", twoGateTrustSite, "/admin/.smsgate/", "/.smsgate/"},
		{"cookie_domain", "http://a.sso.localhost:{HTTP_PORT} {\n\t" + gate + "\n\trespond \"a {http.auth.user.id}\"\n}\nhttp://b.sso.localhost:{HTTP_PORT} {\n\t" + gate + "\n\trespond \"b {http.auth.user.id}\"\n}",
			"http://a.sso.localhost:{HTTP_PORT}/.smsgate/", "http://b.sso.localhost:{HTTP_PORT}/.smsgate/"},
	} {
		t.Run(c.name, func(t *testing.T) {
			sitetest.Parallel(t)
			s := sitetest.Start(t, c.site)
			shared, own := sitetest.NewClient(t, ""), sitetest.NewClient(t, "")
			there, here := s.WithPorts(c.there), s.WithPorts(c.here)
			if !strings.HasPrefix(there, "http") {
				there, here = shared.Base()+there, shared.Base()+here
			}
			signInAt(t, s, shared, there, true)
			signInAt(t, s, own, there, true)
			s.Advance(time.Hour) // their sessions expire; the trusts stand
			signInAt(t, s, shared, here, false)

			signOutAt(t, shared, here)
			if trustSignsIn(t, shared, there) {
				t.Fatal("the trust carol's browser earned at the other gate signed it in again after she signed out of it")
			}
			if !trustSignsIn(t, own, there) {
				t.Fatal("her other browser's trust ended with the sign-out of the shared one")
			}
		})
	}
}

// signingKey is the signing_key of TestSignOutNeedsNoListOfSessions's
// gates, so that the test can write a session as the release before wrote
// it.
const signingKey = "a signing key of 32 bytes or more, for tests only"

// TestSignOutNeedsNoListOfSessions: a session names the trust it came
// from (its claim "tb"), so signing out ends that trust without reading
// the user's list of sessions: with every read of that list failing, the
// sign-out at the site's gate of a session trusted at the admin's still
// ends the admin gate's trust (before: 503, the list could not be read).
// A session from the release before names none: it still works, and its
// sign-out still ends its trust, read from the list (with the list
// failing, 503; then, read, its trust ends).
func TestSignOutNeedsNoListOfSessions(t *testing.T) {
	sitetest.Parallel(t)
	dir := t.TempDir()
	site := strings.ReplaceAll(twoGateTrustSite, "store badger {DIR}", "store smsgate_test_hold "+dir+" badger {DIR}\n\t\t\tsigning_key \""+signingKey+"\"")
	s := sitetest.Start(t, site)
	failing := func(on bool) {
		t.Helper()
		var err error
		if on {
			err = os.WriteFile(filepath.Join(dir, "fail"), nil, 0o600)
		} else {
			err = os.Remove(filepath.Join(dir, "fail"))
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	admin, site2 := "/admin/.smsgate/", "/.smsgate/"

	now := sitetest.NewClient(t, "")
	signInAt(t, s, now, now.Base()+admin, true)
	if cl := claimsOf(t, now.Cookie("smsgate_session")); cl.Trust == nil || *cl.Trust == "" {
		t.Fatalf("a session signed in trusting the browser names no trust: %+v", cl)
	}
	failing(true)
	signOutAt(t, now, now.Base()+site2)
	failing(false)
	if trustSignsIn(t, now, now.Base()+admin) {
		t.Fatal("signed in again at the admin's gate by the trust its session came from")
	}

	// A session as the release before wrote it: the same, without "tb".
	old := sitetest.NewClient(t, "")
	signInAt(t, s, old, old.Base()+admin, true)
	cl := claimsOf(t, old.Cookie("smsgate_session"))
	cl.Trust = nil
	token, err := session.NewKeys(session.Derive([]byte(signingKey), "session"), time.Now).Sign(cl)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(payloadOf(t, token), `"tb"`) {
		t.Fatal("the previous release's session names a trust")
	}
	old.SetCookie("smsgate_session", token)
	if res := old.Get("/"); res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Text, "Hello, carol ") {
		t.Fatalf("a session of the release before: %d %q", res.StatusCode, res.Text)
	}
	failing(true)
	tok := old.CSRF(site2 + "logout")
	if res := old.Post(site2+"logout", url.Values{"csrf": {tok}}); res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("a sign-out of a session of the release before with its list unreadable: %d, want 503", res.StatusCode)
	}
	failing(false)
	// Nor does its browser name itself to the trust (a trust of the release
	// before): only the list says which trust the session came from.
	old.SetCookie("smsgate_known", "")
	signOutAt(t, old, old.Base()+site2)
	if trustSignsIn(t, old, old.Base()+admin) {
		t.Fatal("a session of the release before signed out, and its trust signed the browser in again")
	}
	if entries := s.LogEntries("signing out: reading whether the session is live, or the user's list of sessions, for the trust the session came from"); len(entries) != 1 {
		t.Fatalf("the failed listing was logged %d times, want once, saying what failed", len(entries))
	}
}

// payloadOf is a JWT's payload, decoded.
func payloadOf(t *testing.T, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// claimsOf reads a session token's claims, unverified.
func claimsOf(t *testing.T, token string) *session.Claims {
	t.Helper()
	cl := new(session.Claims)
	if err := json.Unmarshal([]byte(payloadOf(t, token)), cl); err != nil {
		t.Fatal(err)
	}
	return cl
}

// TestAPlantedKnownCookieHidesNoTrustFromSignOut: carol's browser earned a
// trust at the admin's gate (its known-browser cookie names the browser,
// and the trust carries that name), then signed in at the site's gate
// with a code. Another host of the domain plants a known-browser cookie
// of another browser beside hers (Domain=, or a longer Path: both are
// sent, the planted one newer). Her sign-out ends the trust her browser
// earned all the same: every known-browser cookie the request carries
// names a browser whose trusts end, not only the newest. (Before: only
// the planted cookie's browser, and the admin gate's trust signed the
// browser in again: 303 to "/".)
func TestAPlantedKnownCookieHidesNoTrustFromSignOut(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, twoGateTrustSite)
	shared, planter := sitetest.NewClient(t, ""), sitetest.NewClient(t, "")
	there, here := shared.Base()+"/admin/.smsgate/", shared.Base()+"/.smsgate/"
	signInAt(t, s, shared, there, true)
	s.Advance(time.Hour) // the session expires; the trust stands
	signInAt(t, s, shared, here, false)
	signInAt(t, s, planter, here, false) // a known-browser cookie of another browser, newer
	planted := planter.Cookie("smsgate_known")
	if planted == "" || planted == shared.Cookie("smsgate_known") {
		t.Fatal("no known-browser cookie of another browser to plant")
	}
	u, _ := url.Parse(here)
	shared.HTTP.Jar.SetCookies(u, []*http.Cookie{{Name: "smsgate_known", Value: planted, Path: "/.smsgate/"}})

	signOutAt(t, shared, here)
	if trustSignsIn(t, shared, there) {
		t.Fatal("the trust carol's browser earned at the admin's gate signed it in again after she signed out, a planted known-browser cookie beside hers")
	}
}
