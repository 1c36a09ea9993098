package pages_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAppInARealBrowser: in Chromium, alice enrolls her phone, adds an
// authenticator app on the devices page (the QR code shows under the CSP),
// then signs in with the app's code in a fresh browser.
func TestAppInARealBrowser(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, `site_name "Example Wiki"`)
	b := enrolledChrome(t, s)

	b.do(chromedp.Navigate(s.Base+"/.smsgate/devices"), chromedp.WaitVisible(chromedp.CSS(`ul.devices`)),
		chromedp.Click(chromedp.CSS(`form:has(input[name="action"][value="app"]) button`)), chromedp.WaitVisible(chromedp.CSS(`img.qr`)))
	if loaded := b.eval(`String(document.querySelector("img.qr").naturalWidth)`); loaded != "240" {
		t.Fatalf("the QR code did not load (naturalWidth %s): the CSP must allow it", loaded)
	}
	b.shoot("app-add")
	secret := strings.TrimSpace(b.text(`code.secret`))
	b.do(chromedp.SendKeys(chromedp.CSS(`#code`), appCode(t, secret)), chromedp.Submit(chromedp.CSS(`#code`)),
		chromedp.WaitVisible(chromedp.CSS(`ul.devices`)))
	if text := b.text(`ul.devices`); !strings.Contains(text, "Authenticator app 1") || !strings.Contains(text, "authenticator app") {
		t.Fatalf("the devices page after adding the app: %q", text)
	}
	b.shoot("devices-with-app")
	s.Advance(30 * time.Second) // the confirming code is used

	b.done()
	fresh := newChrome(t)
	fresh.basicAuth("alice")
	fresh.do(chromedp.Navigate(s.Base+"/wiki/start"), chromedp.WaitVisible(chromedp.CSS(`#app-code`))) // the app first
	fresh.shoot("verify-app")
	fresh.do(chromedp.SendKeys(chromedp.CSS(`#app-code`), appCode(t, secret)), chromedp.Submit(chromedp.CSS(`#app-code`)))
	fresh.waitText(`body`, "Hello, alice!")
	for _, c := range []*chrome{b, fresh} {
		c.mu.Lock()
		problems := c.problems
		c.mu.Unlock()
		if len(problems) > 0 {
			t.Fatalf("the browser reported: %q", problems)
		}
	}
}

// enrolledChrome is Chromium with alice's first factor, after she enrolled
// her phone (the code, the recovery codes) and reached the app.
func enrolledChrome(t *testing.T, s *sitetest.Site) *chrome {
	t.Helper()
	b := newChrome(t)
	b.basicAuth("alice")
	b.do(chromedp.Navigate(s.Base+"/wiki/start"), chromedp.WaitVisible(chromedp.CSS(`#phone`)),
		chromedp.SendKeys(chromedp.CSS(`#phone`), "+1 415 555 2671"), chromedp.Submit(chromedp.CSS(`#phone`)),
		chromedp.WaitVisible(chromedp.CSS(`#code`)))
	b.do(chromedp.SendKeys(chromedp.CSS(`#code`), s.LastCode()), chromedp.Submit(chromedp.CSS(`#code`)),
		chromedp.WaitVisible(chromedp.CSS(`#saved`)), chromedp.Click(chromedp.CSS(`#saved`)), chromedp.Click(chromedp.CSS(`#continue`)))
	b.waitText(`body`, "Hello, alice!")
	return b
}
