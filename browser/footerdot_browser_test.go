package browser_test

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// danglingDots lists the "·" of the devices page's footer (Back to the
// site · Sign out · Sign out everywhere) that end a line, the item after
// them on the next: "" when none.
const danglingDots = `(() => {
  const p = document.querySelector('#home').closest('p');
  const out = [];
  for (const node of p.childNodes) {
    if (node.nodeType !== Node.TEXT_NODE) continue;
    const i = node.textContent.indexOf('·');
    const next = node.nextElementSibling || node.nextSibling;
    if (i < 0 || !next || next.nodeType !== Node.ELEMENT_NODE) continue;
    const r = document.createRange();
    r.setStart(node, i); r.setEnd(node, i + 1);
    const dot = r.getBoundingClientRect(), after = next.getBoundingClientRect();
    if (after.top >= dot.bottom - 1) out.push('a "·" ends a line before ' + next.tagName + ' "' + next.textContent.trim() + '"');
  }
  return out.join('; ');
})()`

// TestTheDevicesFooterLeavesNoDotDangling (walk34): in Chromium, at 360
// and 1280 px, no "·" of the devices page's footer ends a line with the
// item it separates on the next (before: "Zurück zur Website · Abmelden ·"
// over "Überall abmelden…", a button as wide as the card).
func TestTheDevicesFooterLeavesNoDotDangling(t *testing.T) {
	s, b := aliceEnrolled(t, "")
	for _, w := range []int64{360, 1280} {
		b.do(chromedp.EmulateViewport(w, 800), chromedp.Navigate(s.Base+"/.smsgate/devices"), chromedp.WaitVisible(chromedp.CSS(`#home`)))
		if faults := b.eval(danglingDots); faults != "" {
			t.Errorf("at %d px: %s", w, faults)
		}
	}
}
