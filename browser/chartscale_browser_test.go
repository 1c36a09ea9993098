package browser_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestChartTextIsTheLegendsSize: on the costs page, at a desktop's width
// and a phone's, every text of a chart is drawn at its legend's size.
// Before (walk36's 2), the per-day chart's picture, a 640-wide viewBox
// scaled to the card, drew its 11-unit text at about 17 px beside the
// legend's 13 px.
func TestChartTextIsTheLegendsSize(t *testing.T) {
	sitetest.Parallel(t)
	b, s := costsPage(t, "en")
	for _, w := range []int64{1280, 360} {
		b.do(chromedp.EmulateViewport(w, 800))
		b.do(chromedp.Navigate(s.Base+"/.smsgate/admin/costs"), chromedp.WaitVisible(chromedp.CSS(`svg`)))
		if off := b.eval(textOffLegend); off != "" {
			t.Errorf("the costs page at %d px: %s", w, off)
		}
	}
}

// textOffLegend says which chart's text is drawn at a size other than its
// legend's (the text's font size times its image's scale); "" when none.
const textOffLegend = `(() => {
  const out = [];
  for (const fig of document.querySelectorAll('figure.chart')) {
    const legend = fig.querySelector('.chart-legend');
    if (!legend) { out.push(fig.id + ' has no legend'); continue; }
    const want = parseFloat(getComputedStyle(legend).fontSize);
    for (const svg of fig.querySelectorAll('svg')) {
      const scale = svg.hasAttribute('viewBox') ? svg.getBoundingClientRect().width / svg.viewBox.baseVal.width : 1;
      for (const t of svg.querySelectorAll('text')) {
        const px = parseFloat(getComputedStyle(t).fontSize) * scale;
        if (Math.abs(px - want) > 0.5) { out.push(fig.id + ': "' + t.textContent + '" at ' + px.toFixed(1) + ' px, its legend at ' + want + ' px'); break; }
      }
    }
  }
  return out.join('; ');
})()`

// scaleScrolledAway scrolls the per-day chart's box to each end and says
// where a label of its scale (the y-axis: 0, 1, 2) is then out of sight,
// off the screen or outside the box it scrolls in; "" when the scale
// stays in sight (walk36's 1: at 360 px it scrolled off with the days).
const scaleScrolledAway = `(() => {
  const fig = document.querySelector('#per-day');
  const box = fig && fig.querySelector('[role=region]');
  if (!box) return 'no per-day chart';
  if (box.scrollWidth <= box.clientWidth) return 'the per-day chart does not scroll';
  const scale = [...fig.querySelectorAll('svg text')].filter(t => /^\d+$/.test(t.textContent.trim()));
  if (scale.length < 2) return 'the per-day chart has no scale';
  const out = [], start = box.scrollLeft;
  for (const [end, to] of [['left', -box.scrollWidth], ['right', box.scrollWidth]]) {
    box.scrollLeft = to;
    const b = box.getBoundingClientRect();
    for (const t of scale) {
      const r = t.getBoundingClientRect();
      if (r.left < 0 || r.right > window.innerWidth || box.contains(t) && (r.left < b.left - 1 || r.right > b.right + 1))
        out.push('scrolled to its ' + end + ', the scale\'s "' + t.textContent + '" is at ' + Math.round(r.left) + ' to ' + Math.round(r.right) + ' px (its box ' + Math.round(b.left) + ' to ' + Math.round(b.right) + ')');
    }
  }
  box.scrollLeft = start;
  return out.join('; ');
})()`
