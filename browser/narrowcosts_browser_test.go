package browser_test

import (
	"net/url"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// narrowFaults lists what a 360 px page shows badly: a chart's text drawn
// under 10 px, and an element that overflows the page or its card, outside
// a box that scrolls. "" when nothing.
const narrowFaults = `(() => {
  const out = [];
  for (const svg of document.querySelectorAll('svg.chart-image')) {
    const scale = svg.hasAttribute('viewBox') ? svg.getBoundingClientRect().width / svg.viewBox.baseVal.width : 1;
    for (const t of svg.querySelectorAll('text')) {
      const px = parseFloat(getComputedStyle(t).fontSize) * scale;
      if (px < 10) { out.push('text "' + t.textContent + '" at ' + px.toFixed(1) + ' px'); break; }
    }
  }
  const main = document.querySelector('main').getBoundingClientRect();
  const scrolls = el => { for (let p = el.parentElement; p; p = p.parentElement) { const o = getComputedStyle(p).overflowX; if (o === 'auto' || o === 'scroll') return true; } return false; };
  for (const el of document.querySelectorAll('main *')) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > Math.min(main.right, window.innerWidth) + 1 && !scrolls(el)) { out.push(el.tagName + '.' + el.className + ' ends at ' + Math.round(r.right)); if (out.length > 5) break; }
  }
  if (document.documentElement.scrollWidth > window.innerWidth) out.push('the page is ' + document.documentElement.scrollWidth + ' px wide');
  return out.join('; ');
})()`

// TestTheCostsPageAt360Pixels: the console's costs page, German, in
// Chromium at a 360 px viewport: its charts' text renders at 10 px or more
// (a 640-wide picture keeps a readable width in a box that scrolls) and no
// element overflows the page or its card (the charts' tables scroll in
// that box); axe finds nothing there; the per-day chart's box opens at its
// newest column, and its scale stays in sight scrolled to either end.
// Before (walk33's 73n): text at about 5 px, and the first
// table past the card; (walk34's 55b) the box opened at the oldest day.
func TestTheCostsPageAt360Pixels(t *testing.T) {
	sitetest.Parallel(t)
	source := axeSource(t)
	b, s := costsPage(t, "de")
	b.do(chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile))
	b.view.w = 360
	b.do(chromedp.Navigate(s.Base+"/.smsgate/admin/costs"), chromedp.WaitVisible(chromedp.CSS(`svg`)))
	if faults := b.eval(narrowFaults); faults != "" {
		t.Errorf("the costs page at 360 px: %s", faults)
	}
	if found := b.axe(source, false); len(found) > 0 {
		t.Errorf("axe at 360 px: %v", found)
	}
	if off := b.eval(newestOffScreen); off != "" {
		t.Errorf("the costs page at 360 px: %s", off)
	}
	if off := b.eval(barsOffScreen); off != "" {
		t.Errorf("the costs page at 360 px: %s", off)
	}
	if cut := b.eval(perDayCut); cut != "" {
		t.Errorf("the costs page at 360 px: %s", cut)
	}
	if gone := b.eval(countryScrolledAway); gone != "" {
		t.Errorf("the costs page at 360 px: %s", gone)
	}
	if gone := b.eval(scaleScrolledAway); gone != "" {
		t.Errorf("the costs page at 360 px: %s", gone)
	}
}

// costsPage is a site with two users' texts (to Germany and the US) and
// its admin alice signed in to the console in Chromium, her page's
// language lang.
func costsPage(t *testing.T, lang string) (*chrome, *sitetest.Site) {
	t.Helper()
	s := sitetest.Basic(t, "admins alice")
	for i, user := range []string{"bob", "demo"} {
		c := sitetest.NewClient(t, user)
		tok := c.CSRF("/.smsgate/enroll")
		c.Post("/.smsgate/enroll", url.Values{"phone": {[]string{"+4915123000002", "+14155550103"}[i]}, "csrf": {tok}})
		c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}})
	}
	b := newChrome(t)
	b.headers("alice", lang)
	b.do(chromedp.Navigate(s.Base+"/.smsgate/admin/"), chromedp.WaitVisible(chromedp.CSS(`#phone`)),
		chromedp.SendKeys(chromedp.CSS(`#phone`), "+1 415 555 0100"), chromedp.Submit(chromedp.CSS(`#phone`)), chromedp.WaitVisible(chromedp.CSS(`#code`)))
	b.do(chromedp.SetValue(chromedp.CSS(`#code`), s.LastCode()), chromedp.Submit(chromedp.CSS(`#code`)), chromedp.WaitVisible(chromedp.CSS(`ul.codes`)))
	return b, s
}

// countryScrolledAway scrolls the table by country to its right end and
// says where its first column (the country) is then out of sight; ""
// when it stays at the box's left (walk35's B2: scrolled, the rows named
// nothing).
const countryScrolledAway = `(() => {
  const caption = [...document.querySelectorAll('main .scroll table caption')].pop();
  if (!caption) return 'no table by country';
  const box = caption.closest('.scroll');
  if (box.scrollWidth <= box.clientWidth) return 'the table by country does not scroll at 360 px';
  box.scrollLeft = box.scrollWidth;
  const b = box.getBoundingClientRect(), out = [];
  for (const th of box.querySelectorAll('tr > :first-child')) {
    const r = th.getBoundingClientRect();
    if (r.left < b.left - 1 || r.right > b.right + 1) out.push('"' + th.textContent.trim() + '" at ' + Math.round(r.left) + ' px');
  }
  box.scrollLeft = 0;
  return out.length ? 'scrolled to its end, the table by country\'s first column is out of sight (the box from ' + Math.round(b.left) + ' px): ' + out.join(', ') : '';
})()`

// perDayCut says what of the per-day chart, as its box opens at 360 px,
// is cut by the box's edge or scrolled out of sight: the legend (it must
// stand outside the box that scrolls, wholly on screen), and each text
// of the picture partly inside the box; "" when none (walk35's 50, 51
// and C0: the legend scrolled off to the left, and "23 Nov" read "3 Nov").
const perDayCut = `(() => {
  const box = document.querySelector('#per-day [role=region]');
  if (!box) return 'no per-day chart';
  const b = box.getBoundingClientRect();
  const out = [];
  const legend = document.querySelector('#per-day .chart-legend');
  if (!legend) out.push('no legend');
  else if (box.contains(legend)) out.push('the legend scrolls with the picture');
  else for (const li of legend.querySelectorAll('li')) { const r = li.getBoundingClientRect(); if (r.left < 0 || r.right > window.innerWidth) out.push('the legend\'s ' + li.textContent + ' is off-screen'); }
  for (const t of box.querySelectorAll('text')) {
    const r = t.getBoundingClientRect();
    if (r.right > b.left + 1 && r.left < b.left - 1 || r.left < b.right - 1 && r.right > b.right + 1) out.push('"' + t.textContent + '" is cut by the box\'s edge (' + Math.round(r.left) + ' to ' + Math.round(r.right) + ' px, the box ' + Math.round(b.left) + ' to ' + Math.round(b.right) + ')');
  }
  return out.join('; ');
})()`

// barsOffScreen says which of the bar chart's bars or texts, as it opens
// at 360 px, end outside its box or the screen; "" when none (walk35's
// B1: its picture kept a 640 px width and opened at its left, US's unused
// part and its total out of sight).
const barsOffScreen = `(() => {
  const svg = document.querySelector('#per-country svg');
  if (!svg) return 'no bar chart';
  const box = svg.closest('[role=region]').getBoundingClientRect();
  const right = Math.min(box.right, window.innerWidth);
  const out = [];
  for (const el of svg.querySelectorAll('rect, text')) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && (r.right > right + 1 || r.left < box.left - 1)) out.push((el.textContent || el.tagName) + ' from ' + Math.round(r.left) + ' to ' + Math.round(r.right) + ' px');
  }
  return out.length ? 'the bar chart draws outside its box (' + Math.round(box.left) + ' to ' + Math.round(right) + ' px): ' + out.join('; ') : '';
})()`

// newestOffScreen says where the per-day chart's box, which scrolls at
// 360 px, opens with its newest column (the rightmost) out of sight; ""
// when it shows it (walk34's 55b: it opened at the oldest day).
const newestOffScreen = `(() => {
  const box = document.querySelector('#per-day [role=region]');
  if (!box) return 'no per-day chart';
  if (box.scrollWidth <= box.clientWidth) return 'the per-day chart does not scroll at 360 px';
  const b = box.getBoundingClientRect();
  let right = -Infinity;
  for (const r of box.querySelectorAll('.series rect')) { const q = r.getBoundingClientRect(); if (q.width > 0) right = Math.max(right, q.right); }
  if (right === -Infinity) return 'the per-day chart draws no column';
  return right > b.left && right <= b.right + 1 ? '' : 'the newest column ends at ' + Math.round(right) + ' px, out of its box (' + Math.round(b.left) + ' to ' + Math.round(b.right) + ' px)';
})()`
