package browser_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// badgesBroken lists the page's badges ("Dieser Browser", "Standard für
// SMS") that run over two lines; "" when none.
const badgesBroken = `(() => [...document.querySelectorAll('.badge')].filter(b => [...b.getClientRects()].filter(r => r.width > 0).length > 1).map(b => '"' + b.textContent + '"').join(', '))()`

// TestABadgeStaysWhole (walk37's 10-eve-devices-trusted-de-360-light):
// the devices page's "Dieser Browser" beside a trusted browser's name, in
// German, stays one pill at every phone's width from 300 to 480 px: at a
// line's end it moves whole to the next. Before, at 360 px, "Chrome unter
// Windows (Dieser" ended a line and "Browser)" began the next, the pill
// cut in two.
func TestABadgeStaysWhole(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "remember 30d")
	b := newChrome(t)
	b.headers("alice", "de")
	b.call(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"})
		return err
	})
	b.do(chromedp.Navigate(s.Base+"/wiki/start"), chromedp.WaitVisible(chromedp.CSS(`#phone`)),
		chromedp.SendKeys(chromedp.CSS(`#phone`), "+1 415 555 2671"), chromedp.Submit(chromedp.CSS(`#phone`)),
		chromedp.WaitVisible(chromedp.CSS(`#code`)))
	b.do(chromedp.SendKeys(chromedp.CSS(`#code`), s.LastCode()), chromedp.Click(chromedp.CSS(`input[name=remember]`)),
		chromedp.Submit(chromedp.CSS(`#code`)), chromedp.WaitVisible(chromedp.CSS(`#saved`)),
		chromedp.Click(chromedp.CSS(`#saved`)), chromedp.Click(chromedp.CSS(`#continue`)))
	b.waitText(`body`, "Hello, alice!")
	b.do(chromedp.Navigate(s.Base+"/.smsgate/devices"), chromedp.WaitVisible(chromedp.CSS(`ul.devices`)))
	if text := b.text(`main`); !strings.Contains(text, "Chrome unter Windows Dieser Browser") {
		t.Fatalf("the devices page names no trusted browser as this one: %q", text)
	}
	var broken []string
	for w := int64(300); w <= 480; w += 4 {
		b.do(chromedp.EmulateViewport(w, 800, chromedp.EmulateMobile))
		if got := b.eval(badgesBroken); got != "" {
			broken = append(broken, fmt.Sprintf("%s at %d px", got, w))
		}
	}
	if len(broken) > 0 {
		t.Errorf("a badge in two lines: %s", strings.Join(broken, "; "))
	}
	noProblems(t, b)
}
