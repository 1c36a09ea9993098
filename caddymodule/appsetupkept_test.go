package caddymodule_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// twoTabs is the user of TestASetupStartedWhileAnotherConfirmsStays: the
// hold store (the test's sitetest.AddHold) holds her first read of her app
// setup once armed, and nothing else of hers.
const twoTabs = "tess"

// TestASetupStartedWhileAnotherConfirmsStays (attack17): tess confirms a
// new authenticator app in one browser, and, while that confirmation
// runs (held once it read her setup), starts adding a second app in
// another. The first is added; the second's setup, started after the
// first's was read, waits for its code: once she steps up with the first
// app (she holds one now), its code adds it. On Badger and Redis, through
// a real Caddy. (Before, the first confirmation deleted whatever setup
// she had once its app was written: the second's code answered "This
// authenticator app is not being added any more; start again.")
func TestASetupStartedWhileAnotherConfirmsStays(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		dir := t.TempDir()
		s := textSite(t, strings.Replace(storeLine, "store ", "store smsgate_test_hold "+dir+" ", 1), []string{twoTabs}, limitsOff)
		addUser(t, s, twoTabs, "+14155552671")
		one, other := sitetest.NewClient(t, twoTabs), sitetest.NewClient(t, twoTabs)
		signIn(t, s, one)
		signIn(t, s, other)
		first, tok := appSetup(t, one)
		sitetest.AddHold(t, dir, sitetest.Hold{Of: twoTabs, Op: "read", Key: "app-setup/localhost/" + twoTabs})
		confirm := sitetest.Park(t, dir, func() *sitetest.Response {
			return one.Post("/.smsgate/devices", url.Values{"action": {"app-confirm"}, "code": {sitetest.AppCode(t, first)}, "csrf": {tok}})
		})
		second, tok := appSetup(t, other)
		sitetest.ExpectBody(t, confirm.Release(t), "The authenticator app was added.")

		// She holds an app now: the second's confirmation asks for it.
		sitetest.Expect(t, other.Post("/.smsgate/devices", url.Values{"action": {"app-confirm"}, "code": {sitetest.AppCode(t, second)}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
		s.Advance(30 * time.Second) // the first app's code is used
		vt := other.CSRF("/.smsgate/verify")
		sitetest.Expect(t, other.Post("/.smsgate/verify", url.Values{"action": {"app"}, "code": {sitetest.AppCode(t, first)}, "csrf": {vt}}), http.StatusSeeOther, "/.smsgate/devices")
		page := other.Get("/.smsgate/devices")
		if !strings.Contains(page.Text, `value="app-confirm"`) {
			t.Fatalf("the second app's confirmation resumed after its step-up: %d\n%s", page.StatusCode, page.Text)
		}
		tok = sitetest.CSRFField.FindStringSubmatch(page.Text)[1]
		sitetest.ExpectBody(t, other.Post("/.smsgate/devices", url.Values{"action": {"app-confirm"}, "code": {sitetest.AppCode(t, second)}, "csrf": {tok}}), "The authenticator app was added.")
		if n := strings.Count(other.Get("/.smsgate/devices").Text, "Authenticator app "); n < 2 {
			t.Errorf("her devices page names %d apps; want two", n)
		}
	})
}
