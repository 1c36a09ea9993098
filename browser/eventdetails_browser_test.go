package browser_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// detailsTall lists the events' details cells whose text runs over more
// than three lines; "" when none.
const detailsTall = `(() => {
  const out = [];
  for (const td of document.querySelectorAll('table.console td[data-kind] ~ td:last-child')) {
    if (!td.textContent.trim()) continue;
    const range = document.createRange();
    range.selectNodeContents(td);
    const tops = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
    if (tops.size > 3) out.push('"' + td.textContent.trim() + '" on ' + tops.size + ' lines (' + Math.round(td.getBoundingClientRect().width) + ' px wide)');
  }
  return out.join(', ');
})()`

// TestAnEventsDetailsKeepAReadingWidthAt360Pixels (walk37's
// 22-events-de-360-light, 28-events-de-360-light-scrolledend): the
// console's events at a phone's 360 px, in German: the table scrolls
// sideways in its box (its values on one line) and an event's details
// keep a width to read them by, three lines at most. Before, the details
// column was squeezed to its longest word: "Zweck: / erstes / Telefon; /
// Gesendet als: / SMS", each row as tall and empty beside it.
func TestAnEventsDetailsKeepAReadingWidthAt360Pixels(t *testing.T) {
	sitetest.Parallel(t)
	b, s := costsPage(t, "de")
	b.do(chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile))
	b.view.w = 360
	b.do(chromedp.Navigate(s.Base+"/.smsgate/admin/events"), chromedp.WaitVisible(chromedp.CSS(`table.console td[data-kind]`)))
	if tall := b.eval(detailsTall); tall != "" {
		t.Errorf("the events at 360 px: %s", tall)
	}
	if faults := b.eval(narrowFaults); faults != "" {
		t.Errorf("the events at 360 px: %s", faults)
	}
	noProblems(t, b)
}
