package caddymodule_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// trustField is the devices page's "Stop trusting" form's trust ID.
var trustField = regexp.MustCompile(`name="trust" value="([^"]+)"`)

// TestStopTrustingABrowserSignsItOut (attack13): through a real Caddy on
// Badger and Redis, carol ends on her devices page a trusted browser she
// does not know (a thief's: trusted at a sign-in with her code, or with
// her trust cookie copied). Its sessions end with it — the one the trust
// gave and the one whose sign-in made it — as the admin's end of a
// session ends its trust's: the page tells her "That browser is no longer
// trusted". Her own browser stays signed in. Before, only the trust's
// record went: the thief's browser stayed signed in (200 "hi carol") for
// the rest of its session (session_lifetime, 12 h by default).
func TestStopTrustingABrowserSignsItOut(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := carolsSite(t, storeLine)
		signIn := func(c *sitetest.Client, remember bool) {
			t.Helper()
			tok := c.CSRF("/.smsgate/login")
			sitetest.Expect(t, c.Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
			form := url.Values{"code": {s.LastCode()}, "csrf": {tok}}
			if remember {
				form.Set("remember", "1")
			}
			sitetest.Expect(t, c.Post("/.smsgate/verify", form), http.StatusSeeOther, "/")
		}
		// The thief's browser, trusted at its sign-in (the session that
		// made the trust), and a copy of its cookies whose session the
		// trust gave (its own session cookie dropped: a new one from the
		// trust, without a code).
		thief := sitetest.NewClient(t, "")
		signIn(thief, true)
		trust := thief.Cookie("smsgate_trust")
		if trust == "" {
			t.Fatal("no trust cookie")
		}
		copied := sitetest.NewClient(t, "")
		copied.SetCookieFor(copied.Base()+"/.smsgate/", "smsgate_trust", trust)
		copied.SetCookie("smsgate_known", thief.Cookie("smsgate_known"))
		sitetest.Expect(t, copied.Get("/.smsgate/login"), http.StatusSeeOther, "/")
		sitetest.ExpectBody(t, thief.Get("/"), "hi carol")
		sitetest.ExpectBody(t, copied.Get("/"), "hi carol")

		// carol, in her own browser, stops trusting it.
		carol := sitetest.NewClient(t, "")
		signIn(carol, false)
		page := carol.Get("/.smsgate/devices")
		ids := trustField.FindAllStringSubmatch(page.Text, -1)
		tok := sitetest.CSRFField.FindStringSubmatch(page.Text)
		if len(ids) != 1 || tok == nil {
			t.Fatalf("the devices page lists %d trusted browsers, want 1:\n%s", len(ids), page.Text)
		}
		res := carol.Post("/.smsgate/devices", url.Values{"action": {"untrust"}, "trust": {ids[0][1]}, "csrf": {tok[1]}})
		sitetest.ExpectBody(t, res, "no longer trusted")

		for name, c := range map[string]*sitetest.Client{"the trust's maker": thief, "the trust's": copied} {
			if res := c.Get("/"); res.StatusCode == http.StatusOK || strings.Contains(res.Text, "hi carol") {
				t.Errorf("%s session after carol stopped trusting its browser: %d %s", name, res.StatusCode, res.Text)
			}
			if res := c.Get("/.smsgate/login"); res.StatusCode == http.StatusSeeOther && res.Header.Get("Location") == "/" {
				t.Errorf("%s browser signed in again by the ended trust", name)
			}
		}
		sitetest.ExpectBody(t, carol.Get("/"), "hi carol")
	})
}

// TestSignOutEndsTheSessionsOfACopiedTrust (attack13): through a real
// Caddy on Badger and Redis, a thief holds a copy of carol's trusted
// browser's cookies (its trust and known-browser cookies) and signed in
// with it, without a code. carol signs out in her browser: its trust ends,
// and with it every session it gave, the thief's too, as a copy of the
// session cookie stops working at a sign-out. Before, only the trust's
// record went: the thief's session answered 200 "hi carol" for the rest
// of its lifetime (12 h by default).
func TestSignOutEndsTheSessionsOfACopiedTrust(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := carolsSite(t, storeLine)
		carol := sitetest.NewClient(t, "")
		tok := carol.CSRF("/.smsgate/login")
		sitetest.Expect(t, carol.Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
		sitetest.Expect(t, carol.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}, "remember": {"1"}}), http.StatusSeeOther, "/")
		thief := sitetest.NewClient(t, "")
		thief.SetCookieFor(thief.Base()+"/.smsgate/", "smsgate_trust", carol.Cookie("smsgate_trust"))
		thief.SetCookie("smsgate_known", carol.Cookie("smsgate_known"))
		sitetest.Expect(t, thief.Get("/.smsgate/login"), http.StatusSeeOther, "/")
		sitetest.ExpectBody(t, thief.Get("/"), "hi carol")

		tok = carol.CSRF("/.smsgate/logout")
		sitetest.ExpectBody(t, carol.Post("/.smsgate/logout", url.Values{"csrf": {tok}}), "signed out")
		if res := thief.Get("/"); res.StatusCode == http.StatusOK {
			t.Errorf("the copied trust's session after carol signed out: %d %s", res.StatusCode, res.Text)
		}
		if res := thief.Get("/.smsgate/login"); res.StatusCode == http.StatusSeeOther && res.Header.Get("Location") == "/" {
			t.Error("the copied trust signed in again after carol signed out")
		}
	})
}

// carolsSite is a login form for carol alone on storeLine's store, with
// the options lines besides, its limits off, answering "hi" and who is
// signed in.
func carolsSite(t *testing.T, storeLine string, lines ...string) *sitetest.Site {
	var options string
	for _, l := range lines {
		options += "\t\t" + l + "\n"
	}
	return sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		user carol +14155552671
`+options+`		`+storeLine+`
		provider log
`+limitsOff+`	}
	respond "hi {http.auth.user.id}"
}`)
}
