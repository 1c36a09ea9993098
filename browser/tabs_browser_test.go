package browser_test

import (
	"context"
	"errors"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestABrowserUsedAgainIsNew: a tab that a test is done with comes to the
// next newChrome as a new browser would: none of the headers, scripts,
// emulated size or colours, cookies or storage of the test before.
func TestABrowserUsedAgainIsNew(t *testing.T) {
	s := sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	respond "auth=[{http.request.header.Authorization}]"
}`)
	var first target.ID
	t.Run("first", func(t *testing.T) {
		b := newChrome(t)
		first = chromedp.FromContext(b.ctx).Target.TargetID
		b.basicAuth("alice")
		b.call(func(ctx context.Context, tg *chromedp.Target) error {
			if _, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: "window.leftover = 1;"}); err != nil {
				return err
			}
			_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}})
			return err
		})
		b.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
		b.do(chromedp.Navigate(s.Base + "/"))
		b.eval(`document.cookie = "leftover=1; path=/"; localStorage.setItem("leftover", "1"); "set"`)
		if got := b.eval(`[String(window.leftover), String(screen.width), String(matchMedia("(prefers-color-scheme: dark)").matches), document.cookie.includes("leftover"), localStorage.getItem("leftover"), document.body.innerText].join(" ")`); got != "1 390 true true 1 auth=[Basic YWxpY2U6ZGVtbw==]" {
			t.Fatalf("the first test's browser: %q", got)
		}
	})
	t.Run("second", func(t *testing.T) {
		b := newChrome(t)
		if id := chromedp.FromContext(b.ctx).Target.TargetID; id != first {
			t.Fatalf("a new tab %s, not the first test's %s: this test proves nothing", id, first)
		}
		b.do(chromedp.Navigate(s.Base + "/"))
		if got := b.eval(`[String(window.leftover), String(screen.width === 390), String(matchMedia("(prefers-color-scheme: dark)").matches), String(document.cookie.includes("leftover")), String(localStorage.getItem("leftover")), String(history.length), document.body.innerText].join(" ")`); got != "undefined false false false null 2 auth=[]" {
			t.Fatalf("the second test's browser kept something: %q", got)
		}
	})
}

// tabs are the browsers that finished tests left, emptied, for the next
// newChrome.
var tabs struct {
	sync.Mutex
	idle []target.ID
}

func idleTab() (target.ID, bool) {
	tabs.Lock()
	defer tabs.Unlock()
	if len(tabs.idle) == 0 {
		return "", false
	}
	id := tabs.idle[len(tabs.idle)-1]
	tabs.idle = tabs.idle[:len(tabs.idle)-1]
	return id, true
}

// forget empties the browser of tab as a new one is: the page unloaded
// (its timers stopped), its history, and in its browser context the
// cookies, the cache, the storage of every origin it visited and the
// permissions granted. It returns the tab's id.
func forget(tab context.Context) (target.ID, error) {
	ctx, cancel := context.WithTimeout(tab, 10*time.Second)
	defer cancel()
	cc := chromedp.FromContext(tab)
	tg := cc.Target
	if tg == nil {
		return "", errors.New("no tab")
	}
	hist, err := cdp.Call(ctx, tg, page.GetNavigationHistory, cdp.Empty{})
	if err != nil {
		return tg.TargetID, err
	}
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		return tg.TargetID, err
	}
	origins := map[string]bool{}
	for _, e := range hist.Entries {
		if u, err := url.Parse(e.URL); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
			origins[u.Scheme+"://"+u.Host] = true
		}
	}
	for o := range origins {
		if _, err := cdp.Call(ctx, tg, storage.ClearDataForOrigin, storage.ClearDataForOriginParams{Origin: o, StorageTypes: "all"}); err != nil {
			return tg.TargetID, err
		}
	}
	info, err := cdp.Call(ctx, cc.Browser, target.GetTargetInfo, target.GetTargetInfoParams{TargetID: tg.TargetID})
	if err != nil {
		return tg.TargetID, err
	}
	for _, step := range []func() error{
		func() error { _, err := cdp.Call(ctx, tg, network.ClearBrowserCookies, cdp.Empty{}); return err },
		func() error { _, err := cdp.Call(ctx, tg, network.ClearBrowserCache, cdp.Empty{}); return err },
		func() error { _, err := cdp.Call(ctx, tg, page.ResetNavigationHistory, cdp.Empty{}); return err },
		func() error { _, err := cdp.Call(ctx, tg, log.Clear, cdp.Empty{}); return err },
		func() error {
			_, err := cdp.Call(ctx, cc.Browser, browser.ResetPermissions, browser.ResetPermissionsParams{BrowserContextID: info.TargetInfo.BrowserContextID})
			return err
		},
	} {
		if err := step(); err != nil {
			return tg.TargetID, err
		}
	}
	return tg.TargetID, nil
}

// closeTab closes a tab that is not to be used again.
func closeTab(browserCtx context.Context, id target.ID) {
	if id == "" {
		return
	}
	ctx, cancel := context.WithTimeout(browserCtx, 5*time.Second)
	defer cancel()
	_, _ = cdp.Call(ctx, chromedp.FromContext(browserCtx).Browser, target.CloseTarget, target.CloseTargetParams{TargetID: id})
}
