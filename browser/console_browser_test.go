package browser_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// axeEverywhere runs axe-core on the page shown, light and dark, at a
// phone's and a desktop's size.
func (c *chrome) axeEverywhere(source, name string) {
	c.t.Helper()
	c.axeViews(source, func(scheme string, w, h int64, v []string) {
		c.t.Errorf("%s, %s, %dx%d: %s", name, scheme, w, h, strings.Join(v, "; "))
	})
}

// TestConsoleInABrowser: each page of the console in Chromium (its CSP
// enforced), with no violation axe-core finds, light and dark, phone and
// desktop; the people page's two forms alike; and the screenshots the
// README shows.
func TestConsoleInABrowser(t *testing.T) {
	sitetest.Parallel(t)
	source := axeSource(t)
	s := sitetest.Basic(t, "admins alice\n\t\tsite_name \"Example Wiki\"")
	for i, user := range []string{"bob", "demo"} {
		c := sitetest.NewClient(t, user)
		tok := c.CSRF("/.smsgate/enroll")
		c.Post("/.smsgate/enroll", url.Values{"phone": {[]string{"+4915123000002", "+442079460003"}[i]}, "csrf": {tok}})
		c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}})
	}
	b := newChrome(t)
	b.basicAuth("alice")
	b.do(chromedp.Navigate(s.Base+"/.smsgate/admin/"), chromedp.WaitVisible(chromedp.CSS(`#phone`)),
		chromedp.SendKeys(chromedp.CSS(`#phone`), "+1 415 555 0100"), chromedp.Submit(chromedp.CSS(`#phone`)), chromedp.WaitVisible(chromedp.CSS(`#code`)))
	b.do(chromedp.SetValue(chromedp.CSS(`#code`), s.LastCode()), chromedp.Submit(chromedp.CSS(`#code`)), chromedp.WaitVisible(chromedp.CSS(`ul.codes`)))

	b.do(chromedp.Navigate(s.Base+"/.smsgate/admin/"), chromedp.WaitVisible(chromedp.CSS(`table.console`)))
	if odd := b.eval(peopleFormsDiffer); odd != "" {
		t.Errorf("the people page's forms: %s", odd)
	}
	b.axeEverywhere(source, "people")
	b.shoot("console-people")
	b.do(chromedp.Navigate(s.Base+"/.smsgate/admin/user?name=bob"), chromedp.WaitVisible(chromedp.CSS(`form.actions`)),
		chromedp.Click(chromedp.CSS(`button[value=invite]`)), chromedp.WaitVisible(chromedp.CSS(`img.qr`)))
	b.axeEverywhere(source, "a user, with an invite")
	b.shoot("console-user")
	b.do(chromedp.Navigate(s.Base+"/.smsgate/admin/events"), chromedp.WaitVisible(chromedp.CSS(`table.console`)))
	b.axeEverywhere(source, "what happened")
	b.shoot("console-events")
	b.do(chromedp.Navigate(s.Base+"/.smsgate/admin/costs"), chromedp.WaitVisible(chromedp.CSS(`svg`)))
	b.axeEverywhere(source, "what it costs")
	b.shoot("console-costs")
}
