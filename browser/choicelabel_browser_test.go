package browser_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// choicesUnaligned lists the tick boxes' and radio buttons' labels whose
// text does not begin each line at one left edge, right of the box; ""
// when none.
const choicesUnaligned = `(() => {
  const out = [];
  for (const label of document.querySelectorAll('label.choice')) {
    const box = label.querySelector('input').getBoundingClientRect();
    const range = document.createRange();
    range.setStartAfter(label.querySelector('input'));
    range.setEnd(label, label.childNodes.length);
    const lefts = new Map();
    for (const r of range.getClientRects()) if (r.width > 0) { const top = Math.round(r.top); lefts.set(top, Math.min(lefts.has(top) ? lefts.get(top) : Infinity, r.left)); }
    const xs = [...lefts.values()];
    if (xs.length > 1 && Math.max(...xs) - Math.min(...xs) > 1) out.push('"' + label.textContent.trim() + '" on ' + xs.length + ' lines from ' + xs.map(Math.round).join(', ') + ' px');
    if (xs.some(x => x < box.right)) out.push('"' + label.textContent.trim() + '" begins a line left of its box\'s right (' + Math.round(box.right) + ' px)');
  }
  return out.join('; ');
})()`

// TestATickBoxsWordsWrapUnderTheirWords (walk37's
// 03-wrongcode-de-360-light, 60-form-verify-number-de-360-light): the
// verify page's "Diesem Browser 30 Tage lang vertrauen", which takes two
// lines on a phone, begins each line at one edge right of its box, at
// phone widths from 300 to 420 px in German (the rule is every
// label.choice's: the recovery page's tick box, the phone choice's radio
// buttons). Before, the second line began at the box's left, under it.
func TestATickBoxsWordsWrapUnderTheirWords(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "remember 30d")
	b := newChrome(t)
	b.headers("alice", "de")
	b.do(chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile))
	b.do(chromedp.Navigate(s.Base+"/wiki/start"), chromedp.WaitVisible(chromedp.CSS(`#phone`)),
		chromedp.SendKeys(chromedp.CSS(`#phone`), "+1 415 555 2671"), chromedp.Submit(chromedp.CSS(`#phone`)),
		chromedp.WaitVisible(chromedp.CSS(`#code`)))
	if label := b.text(`label.choice`); !strings.Contains(label, "Diesem Browser 30 Tage lang vertrauen") {
		t.Fatalf("the verify page's tick box: %q", label)
	}
	var faults []string
	for w := int64(300); w <= 420; w += 10 {
		b.do(chromedp.EmulateViewport(w, 740, chromedp.EmulateMobile))
		if got := b.eval(choicesUnaligned); got != "" {
			faults = append(faults, fmt.Sprintf("at %d px: %s", w, got))
		}
	}
	if len(faults) > 0 {
		t.Errorf("the verify page: %s", strings.Join(faults, "; "))
	}
	noProblems(t, b)
}
