package browser_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// waysUnlike says how the verify page's other ways ("Try another way",
// "I don't have my phone", "Use my authenticator app": each a summary to
// open) differ from one another in colour, and which stands closer than
// 16 px under what comes before it; "" when they look alike and stand
// apart.
const waysUnlike = `(() => {
  const out = [], colours = new Map();
  for (const d of document.querySelectorAll('main details')) {
    const s = d.querySelector('summary');
    colours.set(s.textContent.trim(), getComputedStyle(s).color);
    const before = d.previousElementSibling;
    if (before) { const gap = d.getBoundingClientRect().top - before.getBoundingClientRect().bottom; if (gap < 16) out.push('"' + s.textContent.trim() + '" ' + Math.round(gap) + ' px under ' + before.tagName.toLowerCase()); }
  }
  if (new Set(colours.values()).size > 1) out.push('colours: ' + [...colours].map(([k, v]) => k + ' ' + v).join(', '));
  if (colours.size < 2) out.push('only ' + [...colours.keys()].join(', '));
  return out.join('; ');
})()`

// TestTheOtherWaysLookAlike (walk37's 74-verify-demo-open-de-360-light):
// the verify page of a user with an app, which offers the app first:
// "Try another way" is a link-coloured summary set apart as "I don't have
// my phone" is, light and dark. Before, it stood in the text's colour,
// right under the app's button (0 px), as if part of its form.
func TestTheOtherWaysLookAlike(t *testing.T) {
	s, b := aliceEnrolled(t, "")
	b.do(chromedp.Navigate(s.Base+"/.smsgate/devices"), chromedp.WaitVisible(chromedp.CSS(`ul.devices`)),
		chromedp.Click(chromedp.CSS(`form:has(input[name="action"][value="app"]) button`)), chromedp.WaitVisible(chromedp.CSS(`code.secret`)))
	secret := strings.TrimSpace(b.text(`code.secret`))
	b.do(chromedp.SendKeys(chromedp.CSS(`#code`), sitetest.AppCode(t, secret)), chromedp.Submit(chromedp.CSS(`#code`)),
		chromedp.WaitVisible(chromedp.CSS(`ul.devices`)))
	s.Advance(30 * time.Second)
	b.done()
	fresh := newChrome(t)
	fresh.headers("alice", "de")
	fresh.do(chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile))
	fresh.do(chromedp.Navigate(s.Base+"/wiki/start"), chromedp.WaitVisible(chromedp.CSS(`#app-code`)))
	for _, scheme := range []string{"light", "dark"} {
		fresh.call(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}})
			return err
		})
		if got := fresh.eval(waysUnlike); got != "" {
			t.Errorf("%s: %s", scheme, got)
		}
	}
	noProblems(t, fresh)
}

// summariesUnaligned lists the verify page's summaries whose text does
// not begin each line at one left edge; "" when none.
const summariesUnaligned = `(() => {
  const out = [];
  for (const s of document.querySelectorAll('main details > summary')) {
    const range = document.createRange();
    range.selectNodeContents(s);
    const lefts = new Map();
    for (const r of range.getClientRects()) if (r.width > 0) { const top = Math.round(r.top); lefts.set(top, Math.min(lefts.has(top) ? lefts.get(top) : Infinity, r.left)); }
    const xs = [...lefts.values()];
    if (xs.length > 1 && Math.max(...xs) - Math.min(...xs) > 1) out.push('"' + s.textContent.trim() + '" on ' + xs.length + ' lines from ' + xs.map(Math.round).join(', ') + ' px');
  }
  return out.join('; ');
})()`

// TestTheOtherWaysWrapUnderTheirWords (walk37's 70-stepup-de-360-dark,
// 74-verify-demo-open-de-360-light): the verify page's "Ich habe mein
// Telefon nicht dabei", which takes two lines on a phone, begins each
// line at one edge, the marker beside it, at widths from 300 to 420 px in
// German (the rule is the app's and "Try another way"'s too). Before, the
// second line began under the marker.
func TestTheOtherWaysWrapUnderTheirWords(t *testing.T) {
	s, b := aliceEnrolled(t, "")
	b.done()
	fresh := newChrome(t)
	fresh.headers("alice", "de")
	fresh.do(chromedp.Navigate(s.Base+"/wiki/start"), chromedp.WaitVisible(chromedp.CSS(`details.recovery summary`)))
	var faults []string
	for w := int64(300); w <= 420; w += 10 {
		fresh.do(chromedp.EmulateViewport(w, 740, chromedp.EmulateMobile))
		if got := fresh.eval(summariesUnaligned); got != "" {
			faults = append(faults, fmt.Sprintf("at %d px: %s", w, got))
		}
	}
	if len(faults) > 0 {
		t.Errorf("the verify page: %s", strings.Join(faults, "; "))
	}
	noProblems(t, fresh)
}
