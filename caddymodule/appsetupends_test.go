package caddymodule_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestASetupCarriedByAStepUpEndsTenMinutesAfterItBegan (invite24,
// review25's S1): vera begins adding a second app; 6 minutes later her
// wrong first code asks for a step-up (step_up 5 min), which hands the
// setup to her new session, and the key is shown again. 4 minutes after
// that, 10 and a half since the setup began, her right code adds nothing:
// the setup ended at its 10 minutes, the step-up did not start them
// again. On Badger and Redis, through a real Caddy. (Before, the step-up
// rewrote the setup with a fresh 10 minutes: the right code added the
// app, and a step-up now and then kept a setup alive for ever.)
func TestASetupCarriedByAStepUpEndsTenMinutesAfterItBegan(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := textSite(t, storeLine, []string{"vera"}, limitsOff)
		addUser(t, s, "vera", "+14155552671")
		c := sitetest.NewClient(t, "vera")
		signIn(t, s, c)
		first, tok := appSetup(t, c)
		sitetest.Expect(t, c.Post("/.smsgate/devices", url.Values{"action": {"app-confirm"}, "code": {sitetest.AppCode(t, first)}, "csrf": {tok}}), http.StatusOK, "")
		stepUp := func() {
			t.Helper()
			s.Advance(30 * time.Second)
			vt := c.CSRF("/.smsgate/verify")
			sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"action": {"app"}, "code": {sitetest.AppCode(t, first)}, "csrf": {vt}}), http.StatusSeeOther, "/.smsgate/devices")
		}
		tok = c.CSRF("/.smsgate/devices")
		sitetest.Expect(t, c.Post("/.smsgate/devices", url.Values{"action": {"app"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
		stepUp()
		page := c.Get("/.smsgate/devices") // the setup begins
		second := keyShown(page)
		if second == "" {
			t.Fatalf("no app setup after the step-up: %d", page.StatusCode)
		}
		tok = sitetest.CSRFField.FindStringSubmatch(page.Text)[1]

		s.Advance(6 * time.Minute)
		sitetest.Expect(t, c.Post("/.smsgate/devices", url.Values{"action": {"app-confirm"}, "code": {"000000"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
		stepUp() // the setup carried, 6.5 minutes after it began
		page = c.Get("/.smsgate/devices")
		if got := keyShown(page); got != second {
			t.Fatalf("the setup after the step-up: key shown %q, want %q", got, second)
		}
		tok = sitetest.CSRFField.FindStringSubmatch(page.Text)[1]

		s.Advance(4 * time.Minute) // 10.5 minutes after it began; the step-up 4 minutes old
		res := c.Post("/.smsgate/devices", url.Values{"action": {"app-confirm"}, "code": {sitetest.AppCode(t, second)}, "csrf": {tok}})
		if strings.Contains(res.Text, "The authenticator app was added.") || res.StatusCode != http.StatusBadRequest {
			t.Errorf("the right code 10.5 minutes after the setup began, carried at 6.5: %d; want the setup ended (400)", res.StatusCode)
		}
		sitetest.ExpectBody(t, res, "start again")
	})
}
