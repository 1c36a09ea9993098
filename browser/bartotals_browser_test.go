package browser_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestABarsTotalStandsAtItsEnd: on the costs page, the chart of codes by
// country writes each bar's total at its bar's end (beside it, or above
// it at the image's right for a bar that reaches it), within 8 px, and
// inside the image, at a desktop's 1280 px and a phone's 360. Before
// (walk36), every total stood at the image's right: on a desktop, DE's
// "1" about 500 px from its bar, half as long as US's.
func TestABarsTotalStandsAtItsEnd(t *testing.T) {
	sitetest.Parallel(t)
	b, s := costsPage(t, "de")
	for _, w := range []int64{1280, 360} {
		b.do(chromedp.EmulateViewport(w, 800))
		b.do(chromedp.Navigate(s.Base+"/.smsgate/admin/costs"), chromedp.WaitVisible(chromedp.CSS(`#per-country svg`)))
		if far := b.eval(totalsAway); far != "" {
			t.Errorf("the costs page at %d px: %s", w, far)
		}
	}
}

// totalsAway says which bar's total of the chart by country stands more
// than 8 px from its bar's end, or outside the image; "" when none. The
// image's texts are each bar's label then its total, the bars' rows in
// the same order, top to bottom.
const totalsAway = `(() => {
  const fig = document.querySelector('#per-country');
  if (!fig) return 'no chart by country';
  const svg = fig.querySelector('svg').getBoundingClientRect();
  const texts = [...fig.querySelectorAll('g.axis text')];
  const rows = {};
  for (const r of fig.querySelectorAll('g.series rect')) {
    const y = Number(r.getAttribute('y'));
    rows[y] = Math.max(rows[y] || 0, r.getBoundingClientRect().right);
  }
  const ends = Object.keys(rows).map(Number).sort((a, b) => a - b).map(y => rows[y]);
  if (ends.length < 2 || texts.length !== 2 * ends.length) return ends.length + ' bars and ' + texts.length + ' texts';
  const out = [];
  ends.forEach((end, i) => {
    const label = texts[2 * i].textContent, t = texts[2 * i + 1].getBoundingClientRect();
    const gap = Math.max(0, t.left - end, end - t.right);
    if (gap > 8) out.push(label + '\'s total "' + texts[2 * i + 1].textContent + '" ' + Math.round(gap) + ' px from its bar\'s end');
    if (t.left < svg.left - 1 || t.right > svg.right + 1) out.push(label + '\'s total outside the image');
  });
  return out.join('; ');
})()`
