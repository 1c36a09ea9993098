package browser_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// labelsTight lists the page's field labels that stand less than .75rem
// (the gap under the country's select) below the field, or the details,
// shown above them; "" when none. What is above a label is the nearest
// element before it that is shown (a form's hidden fields skipped, a
// form's first label measured from what is before the form); a label
// under a heading or a paragraph has their margins.
const labelsTight = `(() => {
	const shown = e => !(e.matches('input[type=hidden]') || e.getClientRects().length === 0);
	const above = l => {
		for (let e = l; e && e !== document.body; e = e.parentElement) {
			for (let p = e.previousElementSibling; p; p = p.previousElementSibling) {
				if (shown(p)) return p;
			}
		}
		return null;
	};
	return [...document.querySelectorAll('label:not(.choice)')].filter(shown).map(l => {
		const p = above(l);
		if (!p || !p.matches('input, select, textarea, details')) return '';
		const gap = l.getBoundingClientRect().top - p.getBoundingClientRect().bottom;
		return gap < 11.5 ? '"' + l.textContent.trim() + '" ' + gap.toFixed(1) + ' px under ' + p.tagName.toLowerCase() + (p.id ? '#' + p.id : '') : '';
	}).filter(s => s).join(', ');
})()`

// TestALabelStandsApartFromTheFieldAbove (walk39's de-06-devices-360,
// de-07-app-add-360 and de-30-events-360): in English and German, at a
// phone's width and a desktop's, each label of a second field stands as
// far from the field above it as "Phone number" from the country's select:
// the devices page's "Name" under the phone number, the app page's "Name"
// under its code and its code's label under "Setup link", the console's
// "Kind" under its user. Before, each hugged the field above (4 px, as
// close as to its own field). The pages pass axe, light and dark.
func TestALabelStandsApartFromTheFieldAbove(t *testing.T) {
	sitetest.Parallel(t)
	source := axeSource(t)
	s := sitetest.Basic(t, "admins alice")
	for _, lang := range []string{"en", "de"} {
		b := newChrome(t)
		b.headers("alice", lang)
		if lang == "en" {
			b.do(chromedp.Navigate(s.Base+"/wiki/start"), chromedp.WaitVisible(chromedp.CSS(`#phone`)),
				chromedp.SendKeys(chromedp.CSS(`#phone`), "+1 415 555 2671"), chromedp.Submit(chromedp.CSS(`#phone`)),
				chromedp.WaitVisible(chromedp.CSS(`#code`)))
			b.do(chromedp.SendKeys(chromedp.CSS(`#code`), s.LastCode()), chromedp.Submit(chromedp.CSS(`#code`)), chromedp.WaitVisible(chromedp.CSS(`#saved`)),
				chromedp.Click(chromedp.CSS(`#saved`)), chromedp.Click(chromedp.CSS(`#continue`)))
		} else {
			b.do(chromedp.Navigate(s.Base+"/wiki/start"), chromedp.WaitVisible(chromedp.CSS(`input[name=action][value=send] ~ button`)),
				chromedp.Click(chromedp.CSS(`input[name=action][value=send] ~ button`)), chromedp.WaitVisible(chromedp.CSS(`#code`)))
			b.do(chromedp.SendKeys(chromedp.CSS(`#code`), s.LastCode()), chromedp.Submit(chromedp.CSS(`#code`)))
		}
		b.waitText(`body`, "Hello, alice!")
		for _, p := range []struct{ name, path, ready, click string }{
			{"devices", "/.smsgate/devices", `#name`, ""},
			{"adding an app", "/.smsgate/devices", `#name`, `form:has(input[name="action"][value="app"]) button`},
			{"the console's events", "/.smsgate/admin/events", `#kind`, ""},
		} {
			b.do(chromedp.Navigate(s.Base+p.path), chromedp.WaitVisible(chromedp.CSS(p.ready)))
			if p.click != "" {
				b.next(chromedp.Click(chromedp.CSS(p.click)))
				b.do(chromedp.WaitVisible(chromedp.CSS(`img.qr`)))
			}
			for _, w := range []int64{360, 1280} {
				b.do(chromedp.EmulateViewport(w, 800))
				if got := b.eval(labelsTight); got != "" {
					t.Errorf("%s, %s, %d px: a label close under the field above: %s", lang, p.name, w, got)
				}
			}
			if lang == "de" {
				b.axeEverywhere(source, p.name)
			}
		}
		noProblems(t, b)
		b.done()
	}
}
