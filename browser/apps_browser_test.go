package browser_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAppInARealBrowser: in Chromium, alice enrolls her phone, adds an
// authenticator app on the devices page (the QR code shows under the CSP),
// then signs in with the app's code in a fresh browser. The devices page
// names the app once.
func TestAppInARealBrowser(t *testing.T) {
	s, b := aliceEnrolled(t, `site_name "Example Wiki"`)

	b.do(chromedp.Navigate(s.Base+"/.smsgate/devices"), chromedp.WaitVisible(chromedp.CSS(`ul.devices`)),
		chromedp.Click(chromedp.CSS(`form:has(input[name="action"][value="app"]) button`)), chromedp.WaitVisible(chromedp.CSS(`img.qr`)))
	if loaded := b.eval(`String(document.querySelector("img.qr").naturalWidth)`); loaded != "240" {
		t.Fatalf("the QR code did not load (naturalWidth %s): the CSP must allow it", loaded)
	}
	b.shoot("app-add")
	secret := strings.TrimSpace(b.text(`code.secret`))
	b.do(chromedp.SendKeys(chromedp.CSS(`#code`), sitetest.AppCode(t, secret)), chromedp.Submit(chromedp.CSS(`#code`)),
		chromedp.WaitVisible(chromedp.CSS(`ul.devices`)))
	// Its default name says its kind: not said again beside it (walk38:
	// "Authenticator app 1 authenticator app").
	if text := b.text(`ul.devices`); !strings.Contains(text, "Authenticator app 1") || strings.Contains(text, "authenticator app") {
		t.Fatalf("the devices page after adding the app: %q", text)
	}
	b.shoot("devices-with-app")
	s.Advance(30 * time.Second) // the confirming code is used

	b.done()
	fresh := newChrome(t)
	fresh.basicAuth("alice")
	fresh.do(chromedp.Navigate(s.Base+"/wiki/start"), chromedp.WaitVisible(chromedp.CSS(`#app-code`))) // the app first
	fresh.shoot("verify-app")
	fresh.do(chromedp.SendKeys(chromedp.CSS(`#app-code`), sitetest.AppCode(t, secret)), chromedp.Submit(chromedp.CSS(`#app-code`)))
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
