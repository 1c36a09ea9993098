package caddymodule_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/pages"
)

// TestTwoTabsTrustingOneBrowserLeaveItOneTrust (trust39, close17 Left 5):
// one browser, signed in, finishes two code sign-ins at once in two tabs,
// "remember" ticked in each: each tab sends the cookies the browser held
// when it was sent, and the browser keeps the trust cookie of whichever
// answer comes last. Of a browser trusted before (its trust renewed by
// both) and of one not yet trusted (known from an earlier sign-in), each
// order of the store forced — the second tab sent before the first's
// answer (sequential), or parked after reading the trusts until the
// first has written them (interleaved) — and each order of the answers:
// one trust listed, the cookie the browser ends with signs in, every
// other trust cookie (the browser's before, the one it gave up) signs
// nobody in, and "Stop trusting" of the row listed ends what the browser
// holds. On Badger and Redis, through a real Caddy. (Before: two trusts
// listed, the given-up one still signing in; or, interleaved, one listed
// whose cookie the browser had given up, its own refused.)
func TestTwoTabsTrustingOneBrowserLeaveItOneTrust(t *testing.T) {
	sitetest.Parallel(t)
	type order struct {
		user                string
		trusted, interleave bool
	}
	orders := []order{{"ann", false, false}, {"bea", false, true}, {"cat", true, false}, {"dee", true, true}}
	var users []string
	for _, o := range orders {
		users = append(users, o.user)
	}
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s, dir := tabsSite(t, storeLine, users...)
		for _, o := range orders {
			name := fmt.Sprintf("%s trusted=%v interleaved=%v", o.user, o.trusted, o.interleave)
			browser, before := signedInBrowser(t, s, o.user, o.trusted)
			if (before != "") != o.trusted {
				t.Fatalf("%s: the browser's trust cookie before: %q", name, before)
			}
			a, b := tabOf(t, browser), tabOf(t, browser)
			s.Advance(time.Minute)
			tokA, codeA := codeSent(t, a), s.LastCode()
			s.Advance(time.Minute)
			tokB, codeB := codeSent(t, b), s.LastCode()
			verify := func(tab *sitetest.Client, tok, code string) func() *sitetest.Response {
				return func() *sitetest.Response {
					return tab.Post("/.smsgate/verify", url.Values{"code": {code}, "csrf": {tok}, "remember": {"1"}})
				}
			}
			var resA, resB *sitetest.Response
			if o.interleave { // a reads the trusts, b writes them, a writes
				sitetest.AddHold(t, dir, sitetest.Hold{Of: o.user, Op: "update", Key: "trusted/*/" + o.user})
				parked := sitetest.Park(t, dir, verify(a, tokA, codeA))
				resB = verify(b, tokB, codeB)()
				resA = parked.Release(t)
			} else { // b sent before a's answer came
				resA = verify(a, tokA, codeA)()
				resB = verify(b, tokB, codeB)()
			}
			sitetest.Expect(t, resA, http.StatusSeeOther, "/")
			sitetest.Expect(t, resB, http.StatusSeeOther, "/")
			given := []string{before}
			for _, res := range []*sitetest.Response{resA, resB} {
				if v, ok := trustSet(res); ok && v != "" {
					given = append(given, v)
				}
			}
			var kept []string // the browser's trust cookie, a's answer last, then b's
			for _, last := range [][2]*sitetest.Response{{resB, resA}, {resA, resB}} {
				kept = append(kept, landed(before, last[0], last[1]))
			}
			page := a.Get("/.smsgate/devices")
			listed := trustedBrowser.FindAllStringSubmatch(page.Text, -1)
			if len(listed) != 1 {
				t.Errorf("%s: %d trusts listed for one browser, want 1", name, len(listed))
			}
			for i, k := range kept {
				if k == "" || !signsInByTrust(t, o.user, k) {
					t.Errorf("%s: the trust cookie the browser ends with (%s's answer last) signs nobody in", name, []string{"a", "b"}[i])
				}
			}
			for _, g := range given {
				if g != "" && !slices.Contains(kept, g) && signsInByTrust(t, o.user, g) {
					t.Errorf("%s: a trust cookie the browser gave up still signs in", name)
				}
			}
			csrf := a.CSRF("/.smsgate/devices")
			for _, row := range listed {
				a.Post("/.smsgate/devices", url.Values{"action": {"untrust"}, "trust": {row[1]}, "csrf": {csrf}})
			}
			for _, k := range kept {
				if k != "" && signsInByTrust(t, o.user, k) {
					t.Errorf("%s: the browser's trust still signs in once the rows listed were stopped", name)
				}
			}
		}
	})
}

// tabsSite is a site remembering browsers 30 days, a code sent again a
// second after the last, of users each with a phone, on the store of
// storeLine held by a sitetest.HoldStore in dir.
func tabsSite(t *testing.T, storeLine string, users ...string) (s *sitetest.Site, dir string) {
	t.Helper()
	dir = t.TempDir()
	s = textSite(t, strings.Replace(storeLine, "store ", "store smsgate_test_hold "+dir+" ", 1), users, "\t\tremember 30d\n\t\tresend_cooldown 1s\n"+limitsOff)
	for i, u := range users {
		addUser(t, s, u, fmt.Sprintf("+1415555267%d", i))
	}
	return s, dir
}

// signedInBrowser is a browser of user's signed in with a code,
// "remember this browser" ticked or not, and its trust cookie ("" for
// none).
func signedInBrowser(t *testing.T, s *sitetest.Site, user string, remember bool) (*sitetest.Client, string) {
	t.Helper()
	browser := sitetest.NewClient(t, user)
	signInRemembering(t, s, browser, remember)
	return browser, browser.Cookie(pages.TrustCookie)
}

// tabOf is another tab of browser: its cookies as they are now.
func tabOf(t *testing.T, browser *sitetest.Client) *sitetest.Client {
	tab := sitetest.NewClient(t, browser.User)
	for _, name := range []string{"smsgate_session", "smsgate_known"} {
		if v := browser.Cookie(name); v != "" {
			tab.SetCookie(name, v)
		}
	}
	if v := browser.Cookie(pages.TrustCookie); v != "" {
		tab.SetCookieFor(tab.Base()+"/.smsgate/", pages.TrustCookie, v)
	}
	return tab
}

// trustSet is the trust cookie res set ("" where it cleared it), and
// whether it set one.
func trustSet(res *sitetest.Response) (string, bool) {
	for _, c := range res.Cookies() {
		if c.Name == pages.TrustCookie {
			if c.MaxAge < 0 {
				return "", true
			}
			return c.Value, true
		}
	}
	return "", false
}

// landed is the trust cookie a browser holding before ends with once the
// answers first and then last came.
func landed(before string, first, last *sitetest.Response) string {
	if v, ok := trustSet(last); ok {
		return v
	}
	if v, ok := trustSet(first); ok {
		return v
	}
	return before
}
