package browser_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/css"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/smsgate/caddy-smsgate/internal/harness"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// chrome is a browser of its own (its own cookies, storage and tab, in a
// browser context of the package's one Chromium) for one test, with the
// problems it reported: CSP violations and script errors.
type chrome struct {
	t        *testing.T
	ctx      context.Context
	mu       sync.Mutex
	problems []string
	// view is the colour scheme and width last emulated (axeViews).
	view struct {
		scheme string
		w      int64
	}
	release func() // see done
	// shotAt, if set, is the element shoot scrolls into view (its end)
	// at each size: a part of a long page the size change would lose.
	shotAt string
}

// done hands the browser back, emptied, for the next newChrome, before the
// test ends: a test that is through with one browser and opens another
// then uses the same tab again, where a new one would cost Chromium a
// browser context (about a second of CPU). The browser must not be used
// after.
func (c *chrome) done() { c.release() }

// chromium is the package's one headless Chromium (Debian's package):
// started by the first test that needs it, stopped by TestMain. Starting
// one per browser cost seconds each.
var chromium struct {
	once sync.Once
	ctx  context.Context // the browser's
	stop func()
	err  error
}

// startChromium starts the package's Chromium, once.
func startChromium() (context.Context, error) {
	chromium.once.Do(func() {
		dir, err := harness.ProcessDir("chromium") // swept if this binary is killed
		if err != nil {
			chromium.err = err
			return
		}
		// The profile, and what Chromium writes beside it, in dir
		// (harness.ChromiumEnv).
		profile := filepath.Join(dir, "profile")
		actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
			chromedp.ExecPath(chromiumPath), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
			chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
			// One renderer process per browser context, not one or more per
			// navigation: the tests check the pages, not Chromium's process
			// model, and this cut Chromium's CPU by about a tenth.
			chromedp.Flag("disable-site-isolation-trials", true),
			chromedp.Flag("disable-features", "IsolateOrigins,site-per-process,SpareRendererForSitePerProcess"),
			// The display compositor (software: no GPU here) in a thread
			// of the browser process instead of a GPU process of its own:
			// the same frames, without a process and its IPC hop (the GPU
			// process cost 2.2 s of CPU, the browser process 1.1 s more).
			chromedp.Flag("in-process-gpu", true),
			chromedp.UserDataDir(profile), chromedp.Env(harness.ChromiumEnv(dir)...))
		ctx, cancel := chromedp.NewContext(actx)
		chromium.ctx = ctx
		chromium.stop = func() { cancel(); cancelAlloc(); _ = os.RemoveAll(dir) }
		if chromium.err = chromedp.Do(ctx); chromium.err == nil { // the browser starts
			chromium.err = harness.ChromiumKeptInside(profile, dir)
		}
	})
	return chromium.ctx, chromium.err
}

// stopChromium stops the package's Chromium, if a test started it.
func stopChromium() {
	if chromium.stop != nil {
		chromium.stop()
	}
}

// chromiumPath is the Chromium the tests run ("" when none is installed):
// Debian's chromium-headless-shell where it is installed (.ci/run installs
// it), else chromium. The shell is Chromium's old headless mode on its
// own, the same Blink without the browser's UI and profile services: the
// browser tests cost it ~40% less CPU than chromium --headless (33 s of
// Chromium's CPU instead of 56 s; a navigation ~60 ms instead of ~120 ms,
// a start 0.15 s instead of 1.3 s).
var chromiumPath = func() string {
	for _, name := range []string{"chromium-headless-shell", "chromium"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	return ""
}()

// newChrome opens a new browser. Without Chromium the test skips, unless
// CI is set: .ci/run installs it.
func newChrome(t *testing.T) *chrome {
	t.Helper()
	if chromiumPath == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed; .ci/run installs it")
		}
		t.Skip("chromium is not installed (apt-get install chromium-headless-shell)")
	}
	browser, err := startChromium()
	if err != nil {
		t.Fatal("starting chromium: ", err)
	}
	// A browser of its own: a tab in a browser context (cookies, cache,
	// storage) that no other browser shares, reached through a DevTools
	// session of its own. A new browser context cost Chromium about 1.3 s
	// of CPU, an emptied one 0.1 s, so a tab that an earlier test is done
	// with is used again, emptied (see forget); what that test set through
	// its session (extra headers, scripts, emulated sizes and media, virtual
	// authenticators) ended with the session (TestABrowserUsedAgainIsNew).
	opts := []chromedp.ContextOption{chromedp.WithDetachOnCancel()}
	if id, ok := idleTab(); ok {
		opts = append(opts, chromedp.WithTargetID(id))
	} else {
		opts = append(opts, chromedp.WithNewBrowserContext())
	}
	tab, cancel := chromedp.NewContext(browser, opts...)
	// Opening the tab has no bound of its own (a timeout on tab would
	// bound the tab's whole life: chromedp ties its event loop to the
	// context of its first run), and on an overloaded machine it once hung
	// for 13 minutes: a watchdog cancels it instead.
	watchdog := time.AfterFunc(time.Minute, cancel)
	err = chromedp.Do(tab)
	if !watchdog.Stop() {
		err = fmt.Errorf("no tab within a minute (%v)", err)
	}
	if err != nil {
		cancel()
		t.Fatal("opening a tab: ", err)
	}
	ctx, cancelTimeout := context.WithTimeout(tab, time.Minute)
	c := &chrome{t: t, ctx: ctx}
	c.release = sync.OnceFunc(func() {
		cancelTimeout()
		id, err := forget(tab)
		cancel()
		if err != nil {
			t.Logf("a browser not used again: %v", err)
			closeTab(browser, id)
			return
		}
		tabs.Lock()
		tabs.idle = append(tabs.idle, id)
		tabs.Unlock()
	})
	t.Cleanup(c.release)
	err = chromedp.Listen(ctx, func(ev any) {
		var text string
		switch e := ev.(type) {
		case *log.EventEntryAdded:
			text = e.Entry.Text
		case *runtime.EventExceptionThrown:
			text = e.ExceptionDetails.Text
		}
		if strings.Contains(text, "Content Security Policy") || strings.Contains(text, "Uncaught") {
			c.mu.Lock()
			c.problems = append(c.problems, text)
			c.mu.Unlock()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	c.call(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, log.Enable, cdp.Empty{}); err != nil {
			return err
		}
		if _, err := cdp.Call(ctx, t, runtime.Enable, cdp.Empty{}); err != nil {
			return err
		}
		// chromedp enables the CSS domain, whose agent in the renderer
		// then reports every stylesheet and media query change (each
		// emulated size and colour scheme); no test asks it anything.
		_, err := cdp.Call(ctx, t, css.Disable, cdp.Empty{})
		return err
	})
	return c
}

// do runs the steps, each on a page that has loaded (see loaded): a step
// that waits for an element of the next page (WaitVisible) returns once
// the element is parsed and laid out, before the page's deferred script
// has run; the step after it waits for the rest.
func (c *chrome) do(steps ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	for _, step := range steps {
		if err := chromedp.Do(c.ctx, step, loaded); err != nil {
			c.t.Fatal(err)
		}
	}
}

// next runs the steps, which lead to another page (a form sent), and
// waits until that page has loaded: a wait for an element or a text that
// the page before had too (a second wrong code's "… tries left") would be
// met by the page before, and the steps after it would run there while
// the browser leaves it.
func (c *chrome) next(steps ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	c.eval(`window.smsgateLeft = true; ""`)
	c.do(steps...)
	c.waitEval(`String(window.smsgateLeft === undefined)`, "true")
}

// loaded waits until the page shown has loaded (document.readyState is
// "complete"): its deferred script (smsgate.js) has run and
// DOMContentLoaded has fired. Until then a page is not what its user
// meets, and the ids of its nodes are not lasting: at DOMContentLoaded
// Chromium's DOM agent forgets every node id it gave out for the page
// (DOM.documentUpdated, the second for the document after the one at
// its commit), so an element found before and read after is "No node
// with given id found" (TestReadsWaitForThePageToLoad). Evaluated with
// no context, the check asks whichever document the tab shows now.
var loaded = chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
	for {
		state, err := chromedp.Evaluate[string](`document.readyState`)(ctx, t)
		if err == nil && state == "complete" {
			return nil
		}
		// An error is a document going away under the question (a
		// navigation): ask the next one.
		select {
		case <-ctx.Done():
			return fmt.Errorf("the page never loaded (%s): %w", state, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
})

func (c *chrome) call(f func(ctx context.Context, t *chromedp.Target) error) {
	c.t.Helper()
	c.do(chromedp.Func(f))
}

// text is the visible text of the first element sel matches, once the
// page that has one has loaded (see loaded): a read right after a click
// or a submit reads the page it led to, whole.
func (c *chrome) text(sel string) string {
	c.t.Helper()
	c.do(chromedp.WaitReady(chromedp.CSS(sel)))
	s, err := chromedp.Run(c.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		c.t.Fatal(err)
	}
	return s
}

// waitText waits until the element's text contains want, through the
// navigation that a click starts (nodes vanish meanwhile: not an error).
// It waits as long as the browser lives (see until).
func (c *chrome) waitText(sel, want string) {
	c.t.Helper()
	var last string
	waited, ok := c.until(func() bool {
		s, err := chromedp.Run(c.ctx, chromedp.Text(chromedp.CSS(sel)))
		if err == nil {
			last = s
		}
		return err == nil && strings.Contains(s, want)
	})
	if !ok {
		c.t.Fatalf("%s never said %q in %s; last: %q", sel, want, waited.Round(time.Millisecond), last)
	}
	c.do(loaded) // what follows reads the page whole
}

// waitEval waits until the script js evaluates to want, and fails the
// test with its last value if it never does (see until).
func (c *chrome) waitEval(js, want string) {
	c.t.Helper()
	var last string
	waited, ok := c.until(func() bool {
		s, err := chromedp.Run(c.ctx, chromedp.Evaluate[string](js))
		if err == nil {
			last = s
		}
		return err == nil && s == want
	})
	if !ok {
		c.t.Fatalf("%s never came to %q in %s; last: %q", js, want, waited.Round(time.Millisecond), last)
	}
	c.do(loaded)
}

// until asks met every 50 ms until it is true (ok) or the browser's
// context ends (newChrome gives a browser a minute), and says how long it
// waited. The waits had 10 s each of their own; a wait is for a page's
// answer, which a machine running two copies of the suite (load 13-30 on
// 2 cores) delays for no fault of the page: the condition is what counts,
// the one bound is the browser's.
func (c *chrome) until(met func() bool) (waited time.Duration, ok bool) {
	start := time.Now()
	for c.ctx.Err() == nil {
		if met() {
			return time.Since(start), true
		}
		select {
		case <-c.ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
	return time.Since(start), false
}

// hurry makes the pages the browser opens from now on run their timers
// (setTimeout) ten times as fast, in the same order: for a test of what a
// page does after a pause (a label put back, a receipt asked for again),
// not of how long the pause is, which then need not wait it out.
func (c *chrome) hurry() {
	c.t.Helper()
	c.call(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: `(function () {
	var set = window.setTimeout;
	window.setTimeout = function (f, ms) { return set.apply(window, [f, (ms || 0) / 10].concat(Array.prototype.slice.call(arguments, 2))); };
})();`})
		return err
	})
}

// shoot saves screenshots of the page at phone and desktop sizes, light
// and dark, in docs/screenshots, when SMSGATE_SCREENSHOTS is set. They
// check nothing, so a run that does not ask for them takes none (each
// costs Chromium a resize, a paint and a PNG).
func (c *chrome) shoot(name string) {
	c.t.Helper()
	if os.Getenv("SMSGATE_SCREENSHOTS") == "" {
		return
	}
	dir := "../docs/screenshots"
	for _, scheme := range []string{"light", "dark"} {
		c.call(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}})
			return err
		})
		for _, size := range []struct {
			suffix string
			w, h   int64
			opts   []chromedp.EmulateViewportOption
		}{{"phone", 390, 844, []chromedp.EmulateViewportOption{chromedp.EmulateMobile}}, {"desktop", 1280, 800, nil}} {
			// From the size emulated last, cleared first: a phone's size
			// emulated over the same width without the phone's viewport
			// (axeViews') kept that layout, zoomed in and wider than
			// the screen.
			c.call(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := cdp.Call(ctx, tg, emulation.ClearDeviceMetricsOverride, cdp.Empty{})
				return err
			})
			c.do(chromedp.EmulateViewport(size.w, size.h, size.opts...))
			if c.shotAt != "" {
				c.do(chromedp.ScrollIntoView(chromedp.CSS(c.shotAt)))
			}
			png, err := chromedp.Run(c.ctx, chromedp.CaptureScreenshot())
			if err != nil {
				c.t.Fatal(err)
			}
			suffix := size.suffix
			if scheme == "dark" {
				suffix += "-dark"
			}
			if err := os.WriteFile(filepath.Join(dir, name+"-"+suffix+".png"), png, 0o644); err != nil {
				c.t.Fatal(err)
			}
		}
	}
	c.view.scheme, c.view.w = "dark", 1280 // the last shot's, for axeViews
}

func TestInARealBrowser(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "site_name \"Example Wiki\"\n\t\tremember 30d")
	b := newChrome(t)
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:demo"))
	b.call(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, tg, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Authorization": auth}})
		return err
	})

	// Enroll: the app sends the browser to the gate.
	b.do(chromedp.Navigate(s.Base+"/wiki/start"), chromedp.WaitVisible(chromedp.CSS(`#phone`)))
	b.shoot("enroll")
	b.do(chromedp.SendKeys(chromedp.CSS(`#phone`), "+1 415 555 2671"), chromedp.Submit(chromedp.CSS(`#phone`)),
		chromedp.WaitVisible(chromedp.CSS(`#code`)))
	if text := b.text(`main`); !strings.Contains(text, "We sent a code to +1•••••••671") {
		t.Fatalf("verify page: %q", text)
	}
	b.shoot("verify")

	// A wrong code: the message, announced, and the form again.
	code := s.LastCode()
	wrong := sitetest.WrongCode(code)
	b.do(chromedp.SendKeys(chromedp.CSS(`#code`), wrong), chromedp.Submit(chromedp.CSS(`#code`)),
		chromedp.WaitVisible(chromedp.CSS(`.error:not(:empty)`)))
	if text := b.text(`.error`); text != "Wrong code; 4 tries left." {
		t.Fatalf("error shown: %q", text)
	}
	b.shoot("verify-wrong-code")

	// WebOTP, stubbed (headless Chromium gets no SMS): the page's script
	// fills the code in and submits it; the recovery codes follow. The
	// user ticks "Trust this browser" first (the code arrives once the page
	// has loaded).
	stub := fmt.Sprintf(`window.OTPCredential = function () {};
document.addEventListener("DOMContentLoaded", function () { var r = document.querySelector("input[name=remember]"); if (r) r.checked = true; });
Object.defineProperty(navigator, "credentials", {value: {get: function () { return new Promise(function (ok) { setTimeout(function () { ok({code: %q}); }, 200); }); }}});`, code)
	b.call(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: stub})
		return err
	})
	b.do(chromedp.Navigate(s.Base+"/.smsgate/verify"), chromedp.WaitVisible(chromedp.CSS(`ul.codes`)))
	b.shoot("recovery-codes")
	// "Continue" waits for "I have saved these codes".
	b.do(chromedp.Click(chromedp.CSS(`#continue`)))
	if !strings.Contains(b.text(`main`), "Your recovery codes") {
		t.Fatal("continued without saying the codes were saved")
	}
	b.do(chromedp.Click(chromedp.CSS(`#saved`)), chromedp.Click(chromedp.CSS(`#continue`)))
	b.waitText(`body`, "Hello, alice!")

	// The devices page (the phone, the other kinds to add, this trusted
	// browser, the recovery codes), then logout.
	b.do(chromedp.Navigate(s.Base+"/.smsgate/devices"), chromedp.WaitVisible(chromedp.CSS(`ul.devices`)))
	if text := b.text(`main`); !strings.Contains(text, "Phone 1") || !strings.Contains(text, "Chrome on Linux") || !strings.Contains(text, "10 unused") {
		t.Fatalf("devices page: %q", text)
	}
	b.shoot("devices")
	b.do(chromedp.Navigate(s.Base+"/.smsgate/logout"), chromedp.WaitVisible(chromedp.CSS(`button`)),
		chromedp.Click(chromedp.CSS(`button`)), chromedp.WaitVisible(chromedp.CSS(`main a[href="/"]:not(#cancel)`)))
	if text := b.text(`main`); !strings.Contains(text, "You are signed out.") {
		t.Fatalf("after logout: %q", text)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.problems) > 0 {
		t.Fatalf("the browser reported: %q", b.problems)
	}
}
