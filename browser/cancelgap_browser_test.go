package browser_test

import (
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"
)

// cancelGap is how far, in px, the page's Cancel stands under the last
// button above it (the main one).
const cancelGap = `(() => {
	const cancel = [...document.querySelectorAll('main a')].find(a => a.textContent.trim() === 'Cancel');
	const buttons = [...document.querySelectorAll('main button')].filter(b => b.offsetParent && b.getBoundingClientRect().bottom <= cancel.getBoundingClientRect().top);
	return String(Math.round(cancel.getBoundingClientRect().top - buttons[buttons.length - 1].getBoundingClientRect().bottom));
})()`

// TestTheAppAndPasskeyPagesCancelStandsApart (walk39, item 4 of
// walkfix39): on the pages that add an app and a passkey, at 360 and
// 1280 px, "Cancel" stands 1.5rem or so under the main button, as the
// verify page's does (walk38). Before, about 8 px under it, as if part of
// it. Both pages pass axe, light and dark.
func TestTheAppAndPasskeyPagesCancelStandsApart(t *testing.T) {
	s, b := aliceEnrolled(t, "")
	source := axeSource(t)
	for _, page := range []struct{ action, wait string }{{"app", `img.qr`}, {"passkey", `#passkey-create`}} {
		b.do(chromedp.EmulateViewport(1280, 800), chromedp.Navigate(s.Base+"/.smsgate/devices"), chromedp.WaitVisible(chromedp.CSS(`ul.devices`)),
			chromedp.Click(chromedp.CSS(`form:has(input[name="action"][value="`+page.action+`"]) button`)), chromedp.WaitVisible(chromedp.CSS(page.wait)))
		for _, w := range []int64{360, 1280} {
			opts := []chromedp.EmulateViewportOption{}
			if w == 360 {
				opts = append(opts, chromedp.EmulateMobile)
			}
			b.do(chromedp.EmulateViewport(w, 800, opts...))
			if gap, err := strconv.Atoi(b.eval(cancelGap)); err != nil || gap < 20 {
				t.Errorf("the %s page at %d px: Cancel %d px under its button (%v), want 20 or more", page.action, w, gap, err)
			}
		}
		b.axeEverywhere(source, "adding a "+page.action+" page")
	}
	noProblems(t, b)
}
