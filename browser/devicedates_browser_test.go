package browser_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// datesOnALineOfTheirOwn names each date of the devices page's lists (a
// device's "last used", a trusted browser's "since") that is not one
// whole line under its name: beside the name, or wrapped over two lines.
const datesOnALineOfTheirOwn = `(function () {
	var dates = "ul.devices > li > .hint, ul.devices > li > span > .hint";
	var out = [];
	document.querySelectorAll(dates).forEach(function (h) {
		var item = h.closest("li"), li = item.getBoundingClientRect(), name = item.querySelector("strong").getBoundingClientRect();
		var r = document.createRange(); r.selectNodeContents(h);
		var tops = {}; Array.prototype.forEach.call(r.getClientRects(), function (q) { tops[Math.round(q.top)] = true; });
		var lines = Object.keys(tops).length, at = h.getBoundingClientRect();
		if (lines !== 1 || Math.abs(at.left - li.left) > 0.5 || at.top < name.bottom - 0.5) out.push(h.textContent + ": " + lines + " line(s), from " + Math.round(at.left - li.left) + " px, top " + Math.round(at.top - name.bottom) + " px under the name");
	});
	return out.join("; ");
})()`

// TestDevicesDatesAndTheStepUpsCancelInABrowser (walk38): in Chromium, at
// a phone's 360 px and a desktop's 1280 px, in English and German, the
// devices page's dates each stand whole on a line of their own under
// their device's name (a trusted browser's "since 7 Dec 2026" wrapped
// alone onto a line at 360 px, beside the name at 1280; the phone's
// "last used" split from its date); and the step-up's Cancel stands
// apart from "I don't have my phone" above it (it sat right under it).
// No violation axe-core finds on either page, light and dark.
func TestDevicesDatesAndTheStepUpsCancelInABrowser(t *testing.T) {
	sitetest.Parallel(t)
	source := axeSource(t)
	s := sitetest.Basic(t, "remember 30d")
	for i, lang := range []string{"en", "de"} {
		b := newChrome(t)
		b.headers([]string{"alice", "bob"}[i], lang)
		b.do(chromedp.Navigate(s.Base+"/"), chromedp.WaitVisible(chromedp.CSS(`#phone`)),
			chromedp.SendKeys(chromedp.CSS(`#phone`), []string{"+1 415 555 2671", "+49 151 23456789"}[i]), chromedp.Submit(chromedp.CSS(`#phone`)),
			chromedp.WaitVisible(chromedp.CSS(`#code`)))
		b.do(chromedp.SetValue(chromedp.CSS(`#code`), s.LastCode()), chromedp.Click(chromedp.CSS(`input[name=remember]`)), chromedp.Submit(chromedp.CSS(`#code`)),
			chromedp.WaitVisible(chromedp.CSS(`#saved`)), chromedp.Click(chromedp.CSS(`#saved`)), chromedp.Click(chromedp.CSS(`#continue`)))
		b.waitText(`body`, "Hello")
		b.do(chromedp.Navigate(s.Base+"/.smsgate/devices"), chromedp.WaitVisible(chromedp.CSS(`ul.devices`)))
		for _, w := range []int64{360, 1280} {
			opts := []chromedp.EmulateViewportOption{}
			if w == 360 {
				opts = append(opts, chromedp.EmulateMobile)
			}
			b.do(chromedp.EmulateViewport(w, 740, opts...))
			if n := b.eval(`String(document.querySelectorAll("ul.devices > li > .hint, ul.devices > li > span > .hint").length)`); n != "2" {
				t.Fatalf("%s: %s dates on the devices page, want 2 (the phone's, the trusted browser's)", lang, n)
			}
			if got := b.eval(datesOnALineOfTheirOwn); got != "" {
				t.Errorf("%s, %d px: %s", lang, w, got)
			}
		}
		b.axeEverywhere(source, "devices ("+lang+") page")

		// Past step_up, a phone added: the step-up, and its Cancel.
		s.Advance(6 * time.Minute)
		b.do(chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile), chromedp.SendKeys(chromedp.CSS(`#phone`), "+1 415 555 0199"))
		b.next(chromedp.Submit(chromedp.CSS(`#phone`)))
		b.do(chromedp.WaitVisible(chromedp.CSS(`details.recovery`)), chromedp.WaitVisible(chromedp.CSS(`#cancel`)))
		gap := b.eval(`(function () {
	var p = document.querySelector("#cancel").parentElement, above = p.previousElementSibling;
	return String(Math.round(p.getBoundingClientRect().top - above.getBoundingClientRect().bottom));
})()`)
		if px, err := strconv.Atoi(gap); err != nil || px < 16 {
			t.Errorf("%s: Cancel %s px under what is above it, want 16 or more", lang, gap)
		}
		b.axeEverywhere(source, "step-up ("+lang+") page")
		noProblems(t, b)
		b.done()
	}
}
