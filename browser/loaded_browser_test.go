package browser_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestReadsWaitForThePageToLoad: after a step that found an element of
// the page a form led to, the helpers wait until that page has loaded, so
// what they read next is the page whole, through node ids that last. Its
// script arrives late here, as on a busy machine: WaitVisible then
// returns before DOMContentLoaded, when Chromium forgets the page's node
// ids (TestInARealBrowser once failed so, reading main: "No node with
// given id found").
func TestReadsWaitForThePageToLoad(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "")
	b := newChrome(t)
	b.basicAuth("alice")
	b.slowScript(500 * time.Millisecond)
	b.do(chromedp.Navigate(s.Base+"/wiki/start"), chromedp.WaitVisible(chromedp.CSS(`#phone`)))
	b.do(chromedp.SendKeys(chromedp.CSS(`#phone`), "+1 415 555 2671"), chromedp.Submit(chromedp.CSS(`#phone`)),
		chromedp.WaitVisible(chromedp.CSS(`#code`)))
	if state, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.readyState`)); err != nil || state != "complete" {
		t.Fatalf("the next step would run on a page %q (%v)", state, err)
	}
	// A node id taken now is one the page keeps.
	ids, err := chromedp.Run(b.ctx, chromedp.QueryNodeIDs(chromedp.CSS(`main`)))
	if err != nil {
		t.Fatal(err)
	}
	b.waitEval(`document.readyState`, "complete")
	b.call(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, dom.ResolveNode, dom.ResolveNodeParams{NodeID: ids[0]})
		return err
	})
}

// slowScript holds each request for the pages' script (smsgate.js) for d,
// and keeps the browser from taking it from its cache.
func (c *chrome) slowScript(d time.Duration) {
	c.t.Helper()
	var tab *chromedp.Target
	c.call(func(ctx context.Context, tg *chromedp.Target) error {
		tab = tg
		if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		if _, err := cdp.Call(ctx, tg, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, tg, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*/smsgate.js"}}})
		return err
	})
	err := chromedp.Listen(c.ctx, func(ev any) {
		if e, ok := ev.(*fetch.EventRequestPaused); ok {
			time.AfterFunc(d, func() {
				_, _ = cdp.Call(c.ctx, tab, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: e.RequestID})
			})
		}
	})
	if err != nil {
		c.t.Fatal(err)
	}
}
