package browser_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAWrongAppCodeMarksTheAppsFieldInARealBrowser: in Chromium, alice
// holds a phone and an app; her verify page has a texted code pending and
// the app's form. A wrong app code comes back with the mark on the field
// she typed in — the app's: aria-invalid, the error as its description,
// the focus — the texted code's field unmarked; the page passes axe-core.
// Before, the texted code's field was marked and took the focus (walk29).
func TestAWrongAppCodeMarksTheAppsFieldInARealBrowser(t *testing.T) {
	source := axeSource(t)
	s, b := aliceEnrolled(t, "")
	b.do(chromedp.Navigate(s.Base+"/.smsgate/devices"), chromedp.WaitVisible(chromedp.CSS(`ul.devices`)),
		chromedp.Click(chromedp.CSS(`form:has(input[name="action"][value="app"]) button`)), chromedp.WaitVisible(chromedp.CSS(`code.secret`)))
	secret := strings.TrimSpace(b.text(`code.secret`))
	b.do(chromedp.SendKeys(chromedp.CSS(`#code`), sitetest.AppCode(t, secret)), chromedp.Submit(chromedp.CSS(`#code`)),
		chromedp.WaitVisible(chromedp.CSS(`ul.devices`)))
	b.done()
	s.Advance(time.Minute)

	c := newChrome(t)
	c.basicAuth("alice")
	c.do(chromedp.Navigate(s.Base+"/"), chromedp.WaitVisible(chromedp.CSS(`#app-code`))) // the app first
	c.do(chromedp.Submit(chromedp.CSS(`input[name=action][value=send]`)), chromedp.WaitVisible(chromedp.CSS(`#code`)))
	c.do(chromedp.Click(chromedp.CSS(`details.app summary`)), chromedp.WaitVisible(chromedp.CSS(`#app-code`)))
	c.do(chromedp.SendKeys(chromedp.CSS(`#app-code`), "000000"), chromedp.Submit(chromedp.CSS(`#app-code`)))
	// The answer's page (the form's own field had the focus before it).
	c.waitEval(`String(document.getElementById("app-code") && document.getElementById("app-code").getAttribute("aria-invalid"))`, "true")
	c.waitEval(`document.activeElement ? document.activeElement.id : ""`, "app-code")
	if got := c.eval(`[document.getElementById("app-code").getAttribute("aria-invalid"), document.getElementById("app-code").getAttribute("aria-describedby"), String(document.getElementById("code").hasAttribute("aria-invalid")), String(document.getElementById("error").textContent.trim() != "")].join(" ")`); got != "true error false true" {
		t.Errorf("after a wrong app code: app-code aria-invalid, its description, code marked, error shown: %q", got)
	}
	// The mark is seen too: its field's border the error's colour, 2 px,
	// the other field's not (walk33: aria-invalid was only announced).
	if got := c.eval(`(() => { const a = getComputedStyle(document.getElementById("app-code")), b = getComputedStyle(document.getElementById("code")); return [a.borderTopWidth, String(a.borderTopColor != b.borderTopColor)].join(" "); })()`); got != "2px true" {
		t.Errorf("the marked field's border (width, other colour than the unmarked one's): %q", got)
	}
	if v := c.axe(source, false); len(v) > 0 {
		t.Errorf("axe-core: %q", v)
	}
}
