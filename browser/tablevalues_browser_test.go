package browser_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestTheConsolesValuesKeepToOneLineAt360Pixels: the console's tables in
// German at a phone's 360 px keep each value on one line — a device's
// name ("Telefon 1"), its kind and number, a date — and scroll sideways
// in their box instead (narrowFaults: nothing past the page); a
// session's how and where are text and may wrap. Before (walk36's
// console at 360 px): "Telefon / 1" and "7.12.2026 / 12:53" broke in two.
func TestTheConsolesValuesKeepToOneLineAt360Pixels(t *testing.T) {
	sitetest.Parallel(t)
	b, s := costsPage(t, "de")
	b.do(chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile))
	b.view.w = 360
	for _, path := range []string{"/.smsgate/admin/", "/.smsgate/admin/user?name=bob"} {
		b.do(chromedp.Navigate(s.Base+path), chromedp.WaitVisible(chromedp.CSS(`table.console`)))
		if broken := b.eval(valuesBroken); broken != "" {
			t.Errorf("%s at 360 px: %s", path, broken)
		}
		if faults := b.eval(narrowFaults); faults != "" {
			t.Errorf("%s at 360 px: %s", path, faults)
		}
	}
}

// valuesBroken lists the console tables' value cells whose text runs on
// more than one line (a session's how and where aside: text); "" when
// none.
const valuesBroken = `(() => {
  const out = [];
  for (const td of document.querySelectorAll('table.console td')) {
    if (td.closest('table.sessions') && (td.cellIndex === 1 || td.cellIndex === 2)) continue;
    if (!td.textContent.trim() || td.querySelector('form')) continue;
    const range = document.createRange();
    range.selectNodeContents(td);
    const tops = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
    if (tops.size > 1) out.push('"' + td.textContent.trim() + '" on ' + tops.size + ' lines');
  }
  return out.join(', ');
})()`
