package caddymodule_test

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestStopTrustingRacingAReTrustEndsWhatTheBrowserHolds (trust39, close17
// Left 5): a trusted browser's devices page stops trusting the browser
// (its own row: the page signs it out) while another tab of it finishes a
// code sign-in with "remember" ticked. Each order of the store forced —
// the stop first (the tab sent before its answer came), the re-trust
// first (the stop sent once it answered), or the re-trust parked after
// reading the trusts until the stop is made — and each order of the
// answers: her "Stop trusting" of the row she saw ends what the browser
// holds — no trust listed, and no trust cookie the browser ends with,
// held before or gave up signs in. On Badger and Redis, through a real
// Caddy. (Before, where the stop came first, the re-trust made a trust of
// a new ID, listed, whose cookie the browser gave up where the stop's
// answer, which forgets the ended trust's cookie, came last: one trust
// listed that no browser held, its cookie still signing in; or, its
// answer last, the browser trusted still.) A re-trust whose browser's
// trust ended while it ran makes none now, and its answer forgets the
// trust cookie too.
func TestStopTrustingRacingAReTrustEndsWhatTheBrowserHolds(t *testing.T) {
	sitetest.Parallel(t)
	orders := []string{"stop first", "re-trust first", "interleaved"}
	users := []string{"eve", "fay", "gus"}
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s, dir := tabsSite(t, storeLine, users...)
		for i, order := range orders {
			user := users[i]
			name := user + ", " + order
			browser, before := signedInBrowser(t, s, user, true)
			page := browser.Get("/.smsgate/devices")
			rows := trustedBrowser.FindAllStringSubmatch(page.Text, -1)
			if len(rows) != 1 || before == "" {
				t.Fatalf("%s: %d trusts listed, cookie %q", name, len(rows), before)
			}
			stopper, tab := tabOf(t, browser), tabOf(t, browser)
			csrf := stopper.CSRF("/.smsgate/devices")
			s.Advance(time.Minute)
			tok, code := codeSent(t, tab), s.LastCode()
			stop := func() *sitetest.Response {
				return stopper.Post("/.smsgate/devices", url.Values{"action": {"untrust"}, "trust": {rows[0][1]}, "csrf": {csrf}})
			}
			retrust := func() *sitetest.Response {
				return tab.Post("/.smsgate/verify", url.Values{"code": {code}, "csrf": {tok}, "remember": {"1"}})
			}
			var stopped, trusted *sitetest.Response
			switch order {
			case "stop first":
				stopped = stop()
				trusted = retrust()
			case "re-trust first": // the stop sent once the re-trust answered
				trusted = retrust()
				stopper = tabOf(t, tab)
				csrf = stopper.CSRF("/.smsgate/devices")
				stopped = stop()
			default:
				sitetest.AddHold(t, dir, sitetest.Hold{Of: user, Op: "update", Key: "trusted/*/" + user})
				parked := sitetest.Park(t, dir, retrust)
				stopped = stop()
				trusted = parked.Release(t)
			}
			sitetest.ExpectBody(t, stopped, "You stopped trusting this browser")
			if trusted.StatusCode != http.StatusSeeOther {
				t.Fatalf("%s: the re-trust answered %d", name, trusted.StatusCode)
			}
			var kept []string // the stop's answer last, then the re-trust's
			for _, last := range [][2]*sitetest.Response{{trusted, stopped}, {stopped, trusted}} {
				kept = append(kept, landed(before, last[0], last[1]))
			}
			owner := sitetest.NewClient(t, user)
			signIn(t, s, owner)
			if listed := trustedBrowser.FindAllStringSubmatch(owner.Get("/.smsgate/devices").Text, -1); len(listed) != 0 {
				t.Errorf("%s: %d trusts listed once she stopped trusting the browser's", name, len(listed))
			}
			for i, k := range kept {
				if k != "" && signsInByTrust(t, user, k) {
					t.Errorf("%s: the trust cookie the browser ends with (%s's answer last) still signs in once she stopped trusting the browser", name, []string{"the stop", "the re-trust"}[i])
				}
			}
			if v, ok := trustSet(trusted); ok && v != "" && !slices.Contains(kept, v) && signsInByTrust(t, user, v) {
				t.Errorf("%s: the trust cookie the browser gave up still signs in", name)
			}
			if signsInByTrust(t, user, before) {
				t.Errorf("%s: the browser's cookie before still signs in", name)
			}
		}
	})
}
