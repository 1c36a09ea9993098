package browser_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// codeActionsOutside lists the recovery codes' Copy, Download and Print
// buttons that reach past the card's text (main's content box); "" when
// none.
const codeActionsOutside = `(() => {
	const main = document.querySelector('main'), cs = getComputedStyle(main), m = main.getBoundingClientRect();
	const left = m.left + parseFloat(cs.paddingLeft), right = m.right - parseFloat(cs.paddingRight);
	return [...document.querySelectorAll('#code-actions button')].filter(b => {
		const r = b.getBoundingClientRect();
		return r.left < left - 0.5 || r.right > right + 0.5;
	}).map(b => '"' + b.textContent + '" ' + Math.round(b.getBoundingClientRect().left) + '-' + Math.round(b.getBoundingClientRect().right) + ' (text ' + Math.round(left) + '-' + Math.round(right) + ')').join(', ');
})()`

// TestTheRecoveryCodesActionsFitAPhone (walk39's de-05-recovery-codes-360):
// the recovery codes' "Kopieren", "Herunterladen" and "Drucken" stay
// inside the card at every phone's width from 360 to 480 px, on a next
// line where they do not fit on one. Before, each a full-width button
// shrunk to its words in one row, at 360 px "Drucken" ran 28 px past the
// card's text and 4 px past the card's edge. The page passes axe, light
// and dark.
func TestTheRecoveryCodesActionsFitAPhone(t *testing.T) {
	sitetest.Parallel(t)
	source := axeSource(t)
	s := sitetest.Basic(t, "")
	b := newChrome(t)
	b.headers("alice", "de")
	b.do(chromedp.Navigate(s.Base+"/wiki/start"), chromedp.WaitVisible(chromedp.CSS(`#phone`)),
		chromedp.SendKeys(chromedp.CSS(`#phone`), "+1 415 555 2671"), chromedp.Submit(chromedp.CSS(`#phone`)),
		chromedp.WaitVisible(chromedp.CSS(`#code`)))
	b.do(chromedp.SendKeys(chromedp.CSS(`#code`), s.LastCode()), chromedp.Submit(chromedp.CSS(`#code`)),
		chromedp.WaitVisible(chromedp.CSS(`#code-actions button`)))
	if text := b.text(`#code-actions`); !strings.Contains(text, "Drucken") {
		t.Fatalf("the recovery codes' actions: %q", text)
	}
	var outside []string
	for w := int64(360); w <= 480; w += 4 {
		b.do(chromedp.EmulateViewport(w, 800, chromedp.EmulateMobile))
		if got := b.eval(codeActionsOutside); got != "" {
			outside = append(outside, fmt.Sprintf("%s at %d px", got, w))
		}
	}
	if len(outside) > 0 {
		t.Errorf("past the card's text: %s", strings.Join(outside, "; "))
	}
	b.axeEverywhere(source, "the recovery codes")
	noProblems(t, b)
}

// codesOutside lists the recovery codes that reach past the card's text
// or break over two lines, and the page's sideways scroll where it has
// one; "" when none.
const codesOutside = `(() => {
	const main = document.querySelector('main'), cs = getComputedStyle(main), m = main.getBoundingClientRect();
	const left = m.left + parseFloat(cs.paddingLeft), right = m.right - parseFloat(cs.paddingRight);
	const out = [...document.querySelectorAll('#codes code')].filter(c => {
		const r = c.getBoundingClientRect();
		return r.left < left - 0.5 || r.right > right + 0.5 || c.getClientRects().length > 1;
	}).map(c => c.textContent + ' ' + Math.round(c.getBoundingClientRect().left) + '-' + Math.round(c.getBoundingClientRect().right) + ' on ' + c.getClientRects().length + ' line(s) (text ' + Math.round(left) + '-' + Math.round(right) + ')');
	const d = document.documentElement;
	if (d.scrollWidth > d.clientWidth) out.push('the page scrolls sideways ' + (d.scrollWidth - d.clientWidth) + ' px');
	return out.join(', ');
})()`

// TestTheRecoveryCodesFitAPhone (walk39, item 3 of walkfix39): the
// recovery codes stay inside the card at every width from 320 to 480 px,
// each on one line, in one column where two do not fit, and the page
// never scrolls sideways. Before, the two columns were kept where they
// did not fit: at 320 px each code broke at its hyphen over two lines
// (walk39 saw them wider than the screen).
// The page passes axe, light and dark.
func TestTheRecoveryCodesFitAPhone(t *testing.T) {
	sitetest.Parallel(t)
	source := axeSource(t)
	s := sitetest.Basic(t, "")
	b := newChrome(t)
	b.headers("alice", "en")
	b.do(chromedp.Navigate(s.Base+"/wiki/start"), chromedp.WaitVisible(chromedp.CSS(`#phone`)),
		chromedp.SendKeys(chromedp.CSS(`#phone`), "+1 415 555 2671"), chromedp.Submit(chromedp.CSS(`#phone`)),
		chromedp.WaitVisible(chromedp.CSS(`#code`)))
	b.do(chromedp.SendKeys(chromedp.CSS(`#code`), s.LastCode()), chromedp.Submit(chromedp.CSS(`#code`)),
		chromedp.WaitVisible(chromedp.CSS(`#codes code`)))
	var outside []string
	for w := int64(320); w <= 480; w += 8 {
		b.do(chromedp.EmulateViewport(w, 800, chromedp.EmulateMobile))
		if got := b.eval(codesOutside); got != "" {
			outside = append(outside, fmt.Sprintf("%s at %d px", got, w))
		}
	}
	if len(outside) > 0 {
		t.Errorf("past the card's text: %s", strings.Join(outside, "; "))
	}
	b.axeEverywhere(source, "the recovery codes at a phone's width")
	noProblems(t, b)
}
