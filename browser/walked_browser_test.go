package browser_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestALongDeviceNameFitsAPhonesScreen: a phone named with 40 letters and
// no space (a device name's most: a German compound, a pasted ID) stays
// inside the page at a phone's 360 px, on the verify page's choice of
// phone and on the devices page. The choice's fieldset grew to the name's
// width (a fieldset is as wide as its widest word), 468 px of a 360 px
// screen, the radio buttons' labels cut off.
func TestALongDeviceNameFitsAPhonesScreen(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "")
	alice := sitetest.NewClient(t, "alice")
	sitetest.Enroll(t, s, alice, "+14155552671")
	long := strings.Repeat("Diensthandy", 4)[:40]
	tok := alice.CSRF("/.smsgate/devices")
	sitetest.Expect(t, alice.Post("/.smsgate/devices", url.Values{"action": {"add"}, "phone": {"+14155550199"}, "name": {long}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, alice.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/devices")

	// Within main (its padding included), and no page wider than the screen.
	const outside = `(function () {
	var main = document.querySelector("main").getBoundingClientRect(), out = [];
	if (document.documentElement.scrollWidth > window.innerWidth) out.push("the page: " + document.documentElement.scrollWidth + " px");
	document.querySelectorAll("main *").forEach(function (e) {
		var r = e.getBoundingClientRect();
		if (r.width > 0 && r.right > main.right + 0.5) out.push(e.tagName.toLowerCase() + (e.className ? "." + e.className : "") + " to " + Math.round(r.right) + " px");
	});
	return out.join(", ");
})()`
	b := newChrome(t)
	b.basicAuth("alice")
	b.do(chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile))
	b.do(chromedp.Navigate(s.Base+"/.smsgate/verify"), chromedp.WaitVisible(chromedp.CSS(`fieldset input[type=radio]`)))
	if !strings.Contains(b.text(`fieldset`), long) {
		t.Fatalf("the choice of phone: %q", b.text(`fieldset`))
	}
	if got := b.eval(outside); got != "" {
		t.Errorf("the verify page at 360 px: beyond main: %s", got)
	}
	b.do(chromedp.Click(chromedp.CSS(`input[name=action][value=send] ~ button`)), chromedp.WaitVisible(chromedp.CSS(`#code`)))
	b.do(chromedp.SetValue(chromedp.CSS(`#code`), s.LastCode()), chromedp.Submit(chromedp.CSS(`#code`)))
	b.waitText(`body`, "Hello, alice!")
	b.do(chromedp.Navigate(s.Base+"/.smsgate/devices"), chromedp.WaitVisible(chromedp.CSS(`ul.devices`)))
	if got := b.eval(outside); got != "" {
		t.Errorf("the devices page at 360 px: beyond main: %s", got)
	}
	noProblems(t, b)
}

// TestTheConsolesQuestionsInABrowser: the console's question before a
// reset (and a device's removal) in Chromium: shown, no violation axe-core
// finds, light and dark, phone and desktop; Cancel leaves the user as he
// was.
func TestTheConsolesQuestionsInABrowser(t *testing.T) {
	sitetest.Parallel(t)
	source := axeSource(t)
	s := sitetest.Basic(t, "admins alice")
	sitetest.Enroll(t, s, sitetest.NewClient(t, "bob"), "+4915123000002")
	b := newChrome(t)
	b.basicAuth("alice")
	b.do(chromedp.Navigate(s.Base+"/.smsgate/admin/"), chromedp.WaitVisible(chromedp.CSS(`#phone`)),
		chromedp.SendKeys(chromedp.CSS(`#phone`), "+1 415 555 0100"), chromedp.Submit(chromedp.CSS(`#phone`)), chromedp.WaitVisible(chromedp.CSS(`#code`)))
	b.do(chromedp.SetValue(chromedp.CSS(`#code`), s.LastCode()), chromedp.Submit(chromedp.CSS(`#code`)), chromedp.WaitVisible(chromedp.CSS(`ul.codes`)))
	b.do(chromedp.Navigate(s.Base+"/.smsgate/admin/user?name=bob"), chromedp.WaitVisible(chromedp.CSS(`button[value=reset]`)))
	b.next(chromedp.Click(chromedp.CSS(`button[value=reset]`)))
	b.waitText(`#confirm`, "Reset bob?")
	b.axeEverywhere(source, "the question before a reset")
	b.next(chromedp.Click(chromedp.CSS(`#confirm a.cancel`)))
	if b.eval(`String(!!document.querySelector("#confirm"))`) != "false" || !strings.Contains(b.text(`main`), "49••") {
		t.Fatalf("after Cancel: %q", b.text(`main`))
	}
	b.next(chromedp.Click(chromedp.CSS(`form:has(input[value=remove]) button`)))
	b.waitText(`#confirm`, "Remove Phone 1 of bob?")
	b.axeEverywhere(source, "the question before a removal")
	noProblems(t, b)
}
