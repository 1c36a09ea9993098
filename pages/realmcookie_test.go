package pages_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// twoRealms is a site behind basic_auth (alice) whose /admin gate has a
// realm of its own (admin.localhost), as the realm warning asks of a stricter gate,
// beside the site's gate of the default realm (the host's, localhost). The
// admin's page shows the Cookie header the app is handed.
const twoRealms = `http://localhost:{HTTP_PORT} {
	basic_auth argon2id {
		alice ` + sitetest.DemoHash + `
	}
	handle /admin/* {
		smsgate {
			realm admin.localhost
			path_prefix /admin/.smsgate/
			store badger {DIR}
			provider log
		}
		respond "admin {http.auth.user.id} [{http.request.header.Cookie}]"
	}
	handle {
		smsgate {
			store badger {DIR}
			provider log
		}
		respond "home {http.auth.user.id}"
	}
}`

// signedInAtBoth is alice enrolled and signed in at both gates of
// twoRealms, the site's first; and the admin realm's session cookie's
// name there.
func signedInAtBoth(t *testing.T, s *sitetest.Site) (alice *sitetest.Client, adminCookie string) {
	t.Helper()
	alice = sitetest.NewClient(t, "alice")
	for _, prefix := range []string{"/.smsgate/", "/admin/.smsgate/"} {
		tok := alice.CSRF(prefix + "enroll")
		sitetest.Expect(t, alice.Post(prefix+"enroll", url.Values{"phone": {"+14155552671"}, "csrf": {tok}}), http.StatusSeeOther, prefix+"verify")
		sitetest.Expect(t, alice.Post(prefix+"verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, prefix+"recovery")
	}
	u, _ := url.Parse(alice.Base() + "/admin/")
	for _, c := range alice.HTTP.Jar.Cookies(u) {
		if strings.HasPrefix(c.Name, "smsgate_session_") {
			adminCookie = c.Name
		}
	}
	return alice, adminCookie
}

// TestTwoRealmsOnOneHostKeepASessionEach: signed in at the site's gate and
// then at /admin's, of a realm of its own, one browser holds both
// sessions: each opens its routes (before: one cookie name for both, the
// admin's sign-in replaced the site's session, 302 to the login at /x).
// The default realm's cookie keeps its name (smsgate_session on plain
// http at loopback): an upgrade signs no one out. So do the known-browser
// cookies. The forward-auth check of /admin's gate reads its realm's
// cookie; a sign-out there leaves the site's session.
func TestTwoRealmsOnOneHostKeepASessionEach(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, twoRealms)
	alice, adminCookie := signedInAtBoth(t, s)
	for range 2 {
		sitetest.ExpectBody(t, alice.Get("/x"), "home alice")
		sitetest.ExpectBody(t, alice.Get("/admin/x"), "admin alice")
	}
	if alice.Cookie("smsgate_session") == "" || adminCookie == "" {
		t.Fatalf("the default realm's session cookie is not smsgate_session, or the admin realm has none of its own (%q)", adminCookie)
	}
	// The known-browser cookie too: each realm knows the browser (its own
	// windows of guesses and send budgets) by its own.
	adminKnown := "smsgate_known" + strings.TrimPrefix(adminCookie, "smsgate_session")
	if alice.Cookie("smsgate_known") == "" || alice.CookieOf("http://localhost:{HTTP_PORT}/admin/", adminKnown) == "" {
		t.Fatalf("the known-browser cookies: smsgate_known %q, %s %q", alice.Cookie("smsgate_known"), adminKnown, alice.CookieOf("http://localhost:{HTTP_PORT}/admin/", adminKnown))
	}
	sitetest.Expect(t, alice.Get("/admin/.smsgate/auth?mode=status"), http.StatusOK, "")
	sitetest.Expect(t, alice.Get("/.smsgate/auth?mode=status"), http.StatusOK, "")

	// Signing out of one realm leaves the other signed in.
	tok := alice.CSRF("/admin/.smsgate/devices")
	alice.Post("/admin/.smsgate/logout", url.Values{"csrf": {tok}})
	sitetest.Expect(t, alice.Get("/admin/x"), http.StatusFound, "/admin/.smsgate/login?rd=%2Fadmin%2Fx")
	sitetest.ExpectBody(t, alice.Get("/x"), "home alice")
	if alice.Cookie(adminCookie) != "" {
		t.Fatalf("%s kept after the sign-out", adminCookie)
	}
}

// TestARealmsSessionUnderTheSharedNameCountsThereOnly: the admin realm's
// session a release before wrote under the shared name (smsgate_session
// on plain http at loopback, __Host-smsgate_session where Secure) still
// opens /admin after the upgrade, and is renamed; it opens nothing of the
// site's, nor does the site's session under the admin realm's name, nor
// the admin's at the site. Every realm's names are taken off the request
// the app is handed, planted ones too.
func TestARealmsSessionUnderTheSharedNameCountsThereOnly(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, twoRealms)
	alice, adminCookie := signedInAtBoth(t, s)
	if adminCookie == "" {
		t.Fatal("no session cookie of the admin realm's own")
	}
	site, admin := alice.Cookie("smsgate_session"), alice.CookieOf("http://localhost:{HTTP_PORT}/admin/", adminCookie)

	for _, shared := range []string{"smsgate_session", "__Host-smsgate_session"} {
		upgraded := sitetest.NewClient(t, "alice")
		res := upgraded.GetWith("/admin/x", map[string]string{"Cookie": shared + "=" + admin})
		sitetest.ExpectBody(t, res, "admin alice []")
		var renamed, expired bool
		for _, c := range res.Cookies() {
			renamed = renamed || c.Name == adminCookie && c.Value == admin
			expired = expired || c.Name == shared && c.MaxAge < 0
		}
		if !renamed || !expired {
			t.Fatalf("%s: the answer renames it %v, expires the shared name %v: %v", shared, renamed, expired, res.Header["Set-Cookie"])
		}
		sitetest.ExpectBody(t, upgraded.Get("/admin/x"), "admin alice")
		sitetest.Expect(t, upgraded.Get("/x"), http.StatusFound, "/.smsgate/login?rd=%2Fx")
		sitetest.Expect(t, upgraded.GetWith("/admin/.smsgate/auth?mode=status", map[string]string{"Cookie": shared + "=" + admin}), http.StatusOK, "")
	}

	// Another realm's session under a realm's name opens nothing there.
	for _, c := range []struct{ path, cookie, login string }{
		{"/admin/x", adminCookie + "=" + site, "/admin/.smsgate/login?rd=%2Fadmin%2Fx"},
		{"/admin/x", "smsgate_session=" + site, "/admin/.smsgate/login?rd=%2Fadmin%2Fx"},
		{"/x", "smsgate_session=" + admin, "/.smsgate/login?rd=%2Fx"},
		{"/x", adminCookie + "=" + admin, "/.smsgate/login?rd=%2Fx"},
	} {
		sitetest.Expect(t, sitetest.NewClient(t, "alice").GetWith(c.path, map[string]string{"Cookie": c.cookie}), http.StatusFound, c.login)
	}

	// Planted cookies of any realm's names reach no app.
	planted := "smsgate_session_000000000000=x; theme=dark; __Host-smsgate_session_0123456789ab=y; __Secure-smsgate_known_fedcba987654=z; smsgate_known_00000000000a=k"
	res := sitetest.NewClient(t, "alice").GetWith("/admin/x", map[string]string{"Cookie": adminCookie + "=" + admin + "; " + planted})
	sitetest.ExpectBody(t, res, "admin alice [theme=dark]")
}

// TestASignOutEndsTheRealmsSessionUnderEveryName: a browser carrying two
// sessions of the admin realm, one under its own name and one under the
// shared name (a release before's, or a gate of the realm that keeps the
// shared names on the host: one that knows no origin), signs out at
// /admin. Both end, and the shared name's is expired in the answer: the
// browser is signed out of /admin (before: the own name's session alone
// ended, and the next request read the shared name's, still live, and
// opened /admin).
func TestASignOutEndsTheRealmsSessionUnderEveryName(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, twoRealms)
	alice, adminCookie := signedInAtBoth(t, s)
	own := alice.CookieOf("http://localhost:{HTTP_PORT}/admin/", adminCookie)
	// A second session of the admin realm: a code sign-in in another browser.
	other := sitetest.NewClient(t, "alice")
	s.Advance(time.Minute) // past the last send's cooldown
	sitetest.Expect(t, other.Get("/admin/.smsgate/login"), http.StatusSeeOther, "/admin/.smsgate/verify")
	tok := other.CSRF("/admin/.smsgate/verify")
	other.Post("/admin/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {tok}})
	sitetest.Expect(t, other.Post("/admin/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")
	second := other.CookieOf("http://localhost:{HTTP_PORT}/admin/", adminCookie)
	if own == "" || second == "" || own == second {
		t.Fatalf("two sessions of the admin realm: %q %q", own, second)
	}
	sitetest.ExpectBody(t, sitetest.NewClient(t, "alice").GetWith("/admin/x", map[string]string{"Cookie": "smsgate_session=" + second}), "admin alice []")

	both := sitetest.NewClient(t, "alice")
	both.SetCookie(adminCookie, own)
	both.SetCookie("smsgate_session", second)
	page := both.Get("/admin/.smsgate/logout")
	csrf := sitetest.CSRFField.FindStringSubmatch(page.Text)
	if csrf == nil {
		t.Fatalf("GET logout: %d, no form", page.StatusCode)
	}
	res := both.Post("/admin/.smsgate/logout", url.Values{"csrf": {csrf[1]}})
	sitetest.Expect(t, res, http.StatusOK, "")
	expired := false
	for _, c := range res.Cookies() {
		expired = expired || c.Name == "smsgate_session" && c.MaxAge < 0
	}
	if !expired {
		t.Errorf("the realm's session under the shared name is not expired: %v", res.Header["Set-Cookie"])
	}
	for _, cookie := range []string{adminCookie + "=" + own, "smsgate_session=" + second} {
		sitetest.Expect(t, sitetest.NewClient(t, "alice").GetWith("/admin/x", map[string]string{"Cookie": cookie}), http.StatusFound, "/admin/.smsgate/login?rd=%2Fadmin%2Fx")
	}
	// The site's session, under the shared name, is the site's: its own
	// sign-out ends it, never the admin realm's.
	sitetest.ExpectBody(t, alice.Get("/x"), "home alice")
}

// cookieApp is a site whose gate (of the default realm) hands its app
// the Cookie header it passes on.
const cookieApp = `http://localhost:{HTTP_PORT} {
	basic_auth argon2id {
		alice ` + sitetest.DemoHash + `
	}
	smsgate {
		store badger {DIR}
		provider log
	}
	respond "app [{http.request.header.Cookie}]"
}`

// TestAnAppsOwnCookieOfALikeNameReachesIt: the gate takes off the names
// its cookies have, a realm's tagged ones too ("_" and 12 lowercase hex
// digits), planted or not, and no other: an app's own cookie whose name
// only begins like one (smsgate_session_extra, smsgate_sessions_pref,
// an app's smsgate_sessionid) reaches the app (before: every name
// smsgate_session or smsgate_known begins was taken off).
func TestAnAppsOwnCookieOfALikeNameReachesIt(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, cookieApp)
	alice := sitetest.NewClient(t, "alice")
	sitetest.Enroll(t, s, alice, "+14155552671")
	session := alice.Cookie("smsgate_session")
	if session == "" {
		t.Fatal("no session cookie")
	}
	gates := "smsgate_session_0123456789ab=x; __Host-smsgate_session_fedcba987654=y; __Secure-smsgate_known_0123456789ab=z; " +
		"smsgate_known_00000000000a=k; smsgate_flow=f; smsgate_trust=t; __Host-smsgate_known=h"
	own := "smsgate_session_extra=1; smsgate_sessions_pref=2; smsgate_known_x=3; __Host-smsgate_session_abc=4; " +
		"smsgate_session_0123456789abc=5; smsgate_session_0123456789AB=6; smsgate_sessionid=7; __Host-smsgate_knownid=8"
	res := sitetest.NewClient(t, "alice").GetWith("/x", map[string]string{"Cookie": "smsgate_session=" + session + "; " + gates + "; " + own})
	sitetest.ExpectBody(t, res, "app ["+own+"]")
}
