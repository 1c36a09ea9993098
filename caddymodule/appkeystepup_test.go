package caddymodule_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAStepUpCarriesTheAppSetupToTheNewSession (review24 F1): vera begins
// adding a second app, the step-up lapses (step_up 5 min, the setup waits
// 10), her first code asks for a step-up again, which issues a new session
// (new SID). In the same browser the resumed confirmation and a wrong code
// after it still show the key: the step-up handed the setup on. A setup
// another browser of hers began is not taken by that step-up: it is shown
// to that browser only. On Badger and Redis, through a real Caddy.
// (Before, the browser that began the setup was shown no key again.)
func TestAStepUpCarriesTheAppSetupToTheNewSession(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := textSite(t, storeLine, []string{"vera"}, limitsOff)
		addUser(t, s, "vera", "+14155552671")
		c, other := sitetest.NewClient(t, "vera"), sitetest.NewClient(t, "vera")
		signIn(t, s, c)
		signIn(t, s, other)
		first, tok := appSetup(t, c)
		sitetest.Expect(t, c.Post("/.smsgate/devices", url.Values{"action": {"app-confirm"}, "code": {sitetest.AppCode(t, first)}, "csrf": {tok}}), http.StatusOK, "")
		stepUp := func(c *sitetest.Client) {
			t.Helper()
			s.Advance(30 * time.Second)
			vt := c.CSRF("/.smsgate/verify")
			sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"action": {"app"}, "code": {sitetest.AppCode(t, first)}, "csrf": {vt}}), http.StatusSeeOther, "/.smsgate/devices")
		}
		setUp := func(c *sitetest.Client) (key, tok string) {
			t.Helper()
			tok = c.CSRF("/.smsgate/devices")
			sitetest.Expect(t, c.Post("/.smsgate/devices", url.Values{"action": {"app"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
			stepUp(c)
			setup := c.Get("/.smsgate/devices")
			m := appSetupSecret.FindStringSubmatch(setup.Text)
			if m == nil {
				t.Fatalf("no app setup after the step-up: %d\n%s", setup.StatusCode, setup.Text)
			}
			return m[1], sitetest.CSRFField.FindStringSubmatch(setup.Text)[1]
		}
		// A wrong code after the step-up lapsed: a step-up, then the
		// confirmation resumed, then a wrong code typed again.
		wrongAfterStepUp := func(c *sitetest.Client, tok string) (resumed, again *sitetest.Response) {
			t.Helper()
			s.Advance(6 * time.Minute)
			sitetest.Expect(t, c.Post("/.smsgate/devices", url.Values{"action": {"app-confirm"}, "code": {"000000"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
			stepUp(c)
			resumed = c.Get("/.smsgate/devices")
			tok = sitetest.CSRFField.FindStringSubmatch(resumed.Text)[1]
			return resumed, c.Post("/.smsgate/devices", url.Values{"action": {"app-confirm"}, "code": {"000000"}, "csrf": {tok}})
		}

		second, _ := setUp(c)
		resumed, res := wrongAfterStepUp(c, sitetest.CSRFField.FindStringSubmatch(c.Get("/.smsgate/devices").Text)[1])
		if got := keyShown(resumed); got != second {
			t.Errorf("the resumed confirmation after a step-up: %d, key shown %q, want %q", resumed.StatusCode, got, second)
		}
		if got := keyShown(res); got != second {
			t.Errorf("a wrong code in the browser that began the setup, after a step-up: %d, key shown %q, want %q", res.StatusCode, got, second)
		}

		// The other browser begins a setup of its own: the first one's
		// step-up leaves it to the other browser.
		third, otherTok := setUp(other)
		resumed, res = wrongAfterStepUp(c, sitetest.CSRFField.FindStringSubmatch(res.Text)[1])
		if keyShown(resumed) != "" || keyShown(res) != "" {
			t.Fatalf("the first browser is shown the setup the other began: %q, %q", keyShown(resumed), keyShown(res))
		}
		sitetest.Expect(t, other.Post("/.smsgate/devices", url.Values{"action": {"app-confirm"}, "code": {"000000"}, "csrf": {otherTok}}), http.StatusSeeOther, "/.smsgate/verify")
		stepUp(other)
		res = other.Get("/.smsgate/devices")
		if got := keyShown(res); got != third {
			t.Errorf("the other browser's wrong code, after its step-up: %d, key shown %q, want its own %q", res.StatusCode, got, third)
		}
		otherTok = sitetest.CSRFField.FindStringSubmatch(res.Text)[1]
		sitetest.ExpectBody(t, other.Post("/.smsgate/devices", url.Values{"action": {"app-confirm"}, "code": {sitetest.AppCode(t, third)}, "csrf": {otherTok}}), "The authenticator app was added.")
	})
}
