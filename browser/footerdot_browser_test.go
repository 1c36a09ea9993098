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
//
// An admin's footer has "Console" too (walk39), in German "Zurück zur
// Website · Konsole · Abmelden", wider than a phone's line: a dot keeps
// to the item after it.
func TestTheDevicesFooterLeavesNoDotDangling(t *testing.T) {
	s, b := aliceEnrolled(t, "admins alice")
	for _, lang := range []string{"en", "de"} {
		b.headers("alice", lang)
		for _, w := range []int64{320, 360, 390, 1280} {
			b.do(chromedp.EmulateViewport(w, 800), chromedp.Navigate(s.Base+"/.smsgate/devices"), chromedp.WaitVisible(chromedp.CSS(`#console`)))
			if faults := b.eval(danglingDots); faults != "" {
				t.Errorf("%s, at %d px: %s", lang, w, faults)
			}
		}
	}
}

// footerButtonUnlike says how the devices page's footer's button (Sign
// out everywhere) differs from its links (Back to the site): font,
// underline, padding, left edge; "" when it reads as one of them.
const footerButtonUnlike = `(() => {
  const a = document.querySelector('#home'), b = a.closest('p').querySelector('button');
  if (!b) return 'no button in the footer';
  const sa = getComputedStyle(a), sb = getComputedStyle(b), out = [];
  for (const k of ['fontSize', 'fontWeight', 'fontFamily', 'textAlign']) if (sa[k] !== sb[k] && !(k === 'textAlign' && sb[k] === 'left')) out.push(k + ' ' + sb[k] + ', not ' + sa[k]);
  if (!sb.textDecorationLine.includes('underline')) out.push('not underlined');
  if (parseFloat(sb.paddingLeft) !== 0) out.push('padding ' + sb.paddingLeft);
  const r = document.createRange(); r.selectNodeContents(b);
  const left = r.getClientRects()[0].left, aLeft = a.getBoundingClientRect().left;
  if (Math.abs(left - aLeft) > 1) out.push('its text begins at ' + Math.round(left) + ' px, the links at ' + Math.round(aLeft));
  return out.join('; ');
})()`

// TestTheDevicesFooterReadsAsOne (walk35's 60, 61, 10): in Chromium, at
// 360 and 1280 px, the footer's "Sign out everywhere (…)" reads as its
// links do: their font, underlined, no padding, its text at their left
// edge. Before, a centred block in the buttons' font under a left-aligned,
// underlined line of links.
func TestTheDevicesFooterReadsAsOne(t *testing.T) {
	s, b := aliceEnrolled(t, "")
	for _, w := range []int64{360, 1280} {
		b.do(chromedp.EmulateViewport(w, 800), chromedp.Navigate(s.Base+"/.smsgate/devices"), chromedp.WaitVisible(chromedp.CSS(`#home`)))
		if faults := b.eval(footerButtonUnlike); faults != "" {
			t.Errorf("at %d px: %s", w, faults)
		}
	}
}
