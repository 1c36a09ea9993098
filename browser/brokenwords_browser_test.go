package browser_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestGermanHeadingsBreakWhereTheyMay: in German at 360 px, no word of
// a page's headings is broken between two letters where it has no hyphen
// (soft or not) to break at, from enrolling to the recovery codes and the
// devices page. Before (walk36), the recovery codes' heading read "Ihre
// Wiederherstellungsco" / "des".
func TestGermanHeadingsBreakWhereTheyMay(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "")
	b := newChrome(t)
	b.headers("alice", "de")
	b.do(chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile))
	check := func(page string) {
		t.Helper()
		if broken := b.eval(headingsBroken); broken != "" {
			t.Errorf("%s: %s", page, broken)
		}
	}
	b.do(chromedp.Navigate(s.Base+"/"), chromedp.WaitVisible(chromedp.CSS(`#phone`)))
	check("enroll")
	b.do(chromedp.SendKeys(chromedp.CSS(`#phone`), "+1 415 555 2671"), chromedp.Submit(chromedp.CSS(`#phone`)), chromedp.WaitVisible(chromedp.CSS(`#code`)))
	check("verify")
	b.do(chromedp.SetValue(chromedp.CSS(`#code`), s.LastCode()), chromedp.Submit(chromedp.CSS(`#code`)), chromedp.WaitVisible(chromedp.CSS(`ul.codes`)))
	check("recovery codes")
	b.do(chromedp.Navigate(s.Base+"/.smsgate/devices"), chromedp.WaitVisible(chromedp.CSS(`ul.devices`)))
	check("devices")
}

// headingsBroken lists each word of the page's headings drawn on more
// than one line with no hyphen (U+00AD or "-") in it to break at; "" when
// none.
const headingsBroken = `(() => {
  const out = [];
  for (const h of document.querySelectorAll('main h1, main h2')) {
    const walker = document.createTreeWalker(h, NodeFilter.SHOW_TEXT);
    for (let n; (n = walker.nextNode()); ) {
      const re = /\S+/g;
      for (let m; (m = re.exec(n.data)); ) {
        const r = document.createRange();
        r.setStart(n, m.index);
        r.setEnd(n, m.index + m[0].length);
        const lines = new Set([...r.getClientRects()].map(q => Math.round(q.top)));
        if (lines.size > 1 && !/[\u00ad-]/.test(m[0])) out.push('"' + m[0] + '" (' + h.tagName + ') is broken across ' + lines.size + ' lines');
      }
    }
  }
  return out.join('; ');
})()`
