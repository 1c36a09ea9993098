package browser_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// axeSource is axe-core's script, from npm (.ci/run installs it and sets
// SMSGATE_AXE; locally: npm install axe-core, then point SMSGATE_AXE at
// node_modules/axe-core/axe.min.js).
func axeSource(t *testing.T) string {
	path := os.Getenv("SMSGATE_AXE")
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("SMSGATE_AXE is not set; .ci/run installs axe-core")
		}
		t.Skip("SMSGATE_AXE is not set (npm install axe-core)")
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// axe runs axe-core on the page shown and returns its violations: of all
// its rules, or with colours only of those about colour (see views). The
// script (half a megabyte) is sent once per browser: Chromium keeps it and
// runs it in each page the browser opens next, compiled once.
func (c *chrome) axe(source string, colours bool) []string {
	c.t.Helper()
	if c.eval(`typeof axe`) == "undefined" {
		c.call(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: source})
			return err
		})
		if _, err := chromedp.Run(c.ctx, chromedp.Evaluate[string](source+`;"loaded"`)); err != nil {
			c.t.Fatal(err)
		}
	}
	// With colours, the rules a run of them all runs (those not off by
	// default) that are tagged "cat.color": color-contrast and
	// link-in-text-block, not the AAA color-contrast-enhanced.
	out, err := chromedp.Run(c.ctx, chromedp.Evaluate[string](`(async () => {
	const only = `+strconv.FormatBool(colours)+` ? axe._audit.rules.filter(r => r.enabled !== false && r.tags.includes("cat.color")).map(r => r.id) : null;
	if (only && only.length == 0) return JSON.stringify(["axe-core has no rules about colour: the dark views check nothing"]);
	const r = await axe.run(document, only ? {resultTypes: ["violations"], runOnly: {type: "rule", values: only}} : {resultTypes: ["violations"]});
	return JSON.stringify(r.violations.map(v => v.id + ": " + v.help + " (" + v.nodes.map(n => n.target.join(" ")).join(", ") + ")"));
})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		c.t.Fatal(err)
	}
	var violations []string
	if err := json.Unmarshal([]byte(out), &violations); err != nil {
		c.t.Fatal(err)
	}
	return violations
}

// views are the ways each page is checked: light and dark, at a phone's
// and a desktop's size; each differs from the one before in one thing (a
// change costs Chromium a new layout). The dark views run only axe's
// rules about colour: the dark scheme changes the stylesheet's colour
// variables and nothing else (TestDarkChangesOnlyColours), so every other
// rule finds there what it found in the light view of the same size, and
// a full run cost Chromium about twice as much CPU.
var views = []struct {
	scheme  string
	w, h    int64
	colours bool // only the rules about colour
}{{"light", 390, 844, false}, {"light", 1280, 800, false}, {"dark", 1280, 800, true}, {"dark", 390, 844, true}}

// axeViews runs axe-core on the page shown in each of the views, and
// reports each one's violations (none: not called).
func (c *chrome) axeViews(source string, report func(scheme string, w, h int64, violations []string)) {
	c.t.Helper()
	for _, v := range views {
		if v.w != c.view.w {
			c.do(chromedp.EmulateViewport(v.w, v.h))
		}
		if v.scheme != c.view.scheme {
			c.call(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: v.scheme}}})
				return err
			})
		}
		c.view.scheme, c.view.w = v.scheme, v.w
		if found := c.axe(source, v.colours); len(found) > 0 {
			report(v.scheme, v.w, v.h, found)
		}
	}
}

// The TestPagesPassAxe… tests: every page, in light and dark mode, at a
// phone's and a desktop's size, in English and (the pages a user meets
// most) German, has no violation axe-core finds. Each has a site of its
// own, and they run beside each other and the other tests.

// axeTest begins one of them (call it first): a site of its own, and
// axe-core's script.
func axeTest(t *testing.T) (*sitetest.Site, string) {
	t.Helper()
	sitetest.Parallel(t)
	source := axeSource(t)
	// allow_remove_last: bob's only phone is offered Remove (walk29: not
	// without it), so its confirmation is checked too.
	return sitetest.Basic(t, "channels sms voice\n\t\tsite_name \"Example Wiki\"\n\t\tlockout_after 3\n\t\tallow_remove_last"), source
}

// TestPagesPassAxe: bob's first visit: enrolling, a code (a wrong one,
// then the right one), his recovery codes; then signing out.
func TestPagesPassAxe(t *testing.T) {
	s, source := axeTest(t)
	b := newChrome(t)
	b.basicAuth("bob")
	b.do(chromedp.Navigate(s.Base+"/"), chromedp.WaitVisible(chromedp.CSS(`#phone`)))
	b.axeEverywhere(source, "enroll page")
	b.do(chromedp.SendKeys(chromedp.CSS(`#phone`), "+1 415 555 0100"), chromedp.Submit(chromedp.CSS(`#phone`)), chromedp.WaitVisible(chromedp.CSS(`#code`)))
	b.axeEverywhere(source, "verify page")
	b.do(chromedp.SendKeys(chromedp.CSS(`#code`), sitetest.WrongCode(s.LastCode())), chromedp.Submit(chromedp.CSS(`#code`)), chromedp.WaitVisible(chromedp.CSS(`.error:not(:empty)`)))
	b.axeEverywhere(source, "verify with an error page")
	code := s.LastCode()
	b.do(chromedp.SetValue(chromedp.CSS(`#code`), code), chromedp.Submit(chromedp.CSS(`#code`)), chromedp.WaitVisible(chromedp.CSS(`ul.codes`)))
	b.axeEverywhere(source, "recovery codes page")
	b.do(chromedp.Navigate(s.Base+"/.smsgate/logout"), chromedp.WaitVisible(chromedp.CSS(`button`)))
	b.axeEverywhere(source, "sign out page")
	b.do(chromedp.Click(chromedp.CSS(`button`)), chromedp.WaitVisible(chromedp.CSS(`main a[href="/"]:not(#cancel)`)))
	b.axeEverywhere(source, "signed out page")
	b.do(chromedp.Navigate(s.Base+"/.smsgate/nowhere"), chromedp.WaitVisible(chromedp.CSS(`main`)))
	b.axeEverywhere(source, "no such page page")
}

// TestPagesPassAxeDevices: bob's devices page, once he has enrolled
// (TestPagesPassAxe checks the pages on the way): after a change,
// confirming a removal and signing out everywhere, adding an app and a
// passkey.
func TestPagesPassAxeDevices(t *testing.T) {
	s, source := axeTest(t)
	b := newChrome(t)
	b.basicAuth("bob")
	b.do(chromedp.Navigate(s.Base+"/"), chromedp.WaitVisible(chromedp.CSS(`#phone`)),
		chromedp.SendKeys(chromedp.CSS(`#phone`), "+1 415 555 0100"), chromedp.Submit(chromedp.CSS(`#phone`)), chromedp.WaitVisible(chromedp.CSS(`#code`)))
	b.do(chromedp.SetValue(chromedp.CSS(`#code`), s.LastCode()), chromedp.Submit(chromedp.CSS(`#code`)), chromedp.WaitVisible(chromedp.CSS(`ul.codes`)))
	b.do(chromedp.Navigate(s.Base+"/.smsgate/devices"), chromedp.WaitVisible(chromedp.CSS(`ul.devices`)))
	b.axeEverywhere(source, "devices page")
	b.do(chromedp.Click(chromedp.CSS(`details.edit summary`)), chromedp.Click(chromedp.CSS(`button[value=rename]`)), chromedp.WaitVisible(chromedp.CSS(`#notice`)))
	b.axeEverywhere(source, "devices, after a change page")
	b.do(chromedp.Click(chromedp.CSS(`details.edit summary`)), chromedp.Click(chromedp.CSS(`button[value=remove]`)), chromedp.WaitVisible(chromedp.CSS(`form.confirm`)))
	b.axeEverywhere(source, "devices, confirming a removal page")
	b.do(chromedp.Navigate(s.Base+"/.smsgate/devices"), chromedp.WaitVisible(chromedp.CSS(`ul.devices`)),
		chromedp.Click(chromedp.CSS(`form:has(input[name="action"][value="signout-all"]) button`)), chromedp.WaitVisible(chromedp.CSS(`#confirm`)))
	b.axeEverywhere(source, "devices, confirming sign out everywhere page")
	b.do(chromedp.Navigate(s.Base+"/.smsgate/devices"), chromedp.WaitVisible(chromedp.CSS(`ul.devices`)),
		chromedp.Click(chromedp.CSS(`form:has(input[name="action"][value="app"]) button`)), chromedp.WaitVisible(chromedp.CSS(`img.qr`)))
	b.axeEverywhere(source, "adding an authenticator app page")
	b.do(chromedp.Navigate(s.Base+"/.smsgate/devices"), chromedp.WaitVisible(chromedp.CSS(`ul.devices`)),
		chromedp.Click(chromedp.CSS(`form:has(input[name="action"][value="passkey"]) button`)), chromedp.WaitVisible(chromedp.CSS(`#passkey-create`)))
	b.axeEverywhere(source, "adding a passkey page")
}

// TestPagesPassAxeLocked: a new browser of bob's, who has a phone: the
// verify page without a code, "no phone" open, then locked.
func TestPagesPassAxeLocked(t *testing.T) {
	s, source := axeTest(t)
	sitetest.Enroll(t, s, sitetest.NewClient(t, "bob"), "+14155550100")
	b := newChrome(t)
	b.basicAuth("bob")
	b.do(chromedp.Navigate(s.Base+"/.smsgate/verify"), chromedp.WaitVisible(chromedp.CSS(`details.recovery summary`)),
		chromedp.Click(chromedp.CSS(`details.recovery summary`)), chromedp.WaitVisible(chromedp.CSS(`#recovery-code`)))
	b.axeEverywhere(source, "verify, no phone page")
	b.do(chromedp.Submit(chromedp.CSS(`input[name=action][value=send]`)), chromedp.WaitVisible(chromedp.CSS(`#code`)))
	wrong := sitetest.WrongCode(s.LastCode())
	for i := range 3 {
		b.next(chromedp.WaitVisible(chromedp.CSS(`#code`)), chromedp.SetValue(chromedp.CSS(`#code`), wrong), chromedp.Submit(chromedp.CSS(`#code`)))
		if i < 2 {
			b.do(chromedp.WaitVisible(chromedp.CSS(`.error:not(:empty)`)))
		}
	}
	b.waitText(`main`, "Sign-in locked")
	b.axeEverywhere(source, "verify, locked page")
}

// TestPagesPassAxeGerman: in German, demo's pages: enrolling, a code, the
// recovery codes, the devices page, adding an app; then, in a new
// browser, the verify page with the app first and texts behind "Try
// another way".
func TestPagesPassAxeGerman(t *testing.T) {
	s, source := axeTest(t)
	b := newChrome(t)
	b.headers("demo", "de")
	b.do(chromedp.Navigate(s.Base+"/"), chromedp.WaitVisible(chromedp.CSS(`#phone`)))
	b.axeEverywhere(source, "enroll (de) page")
	b.do(chromedp.SendKeys(chromedp.CSS(`#phone`), "+1 415 555 0142"), chromedp.Submit(chromedp.CSS(`#phone`)), chromedp.WaitVisible(chromedp.CSS(`#code`)))
	b.axeEverywhere(source, "verify (de) page")
	b.do(chromedp.SendKeys(chromedp.CSS(`#code`), s.LastCode()), chromedp.Submit(chromedp.CSS(`#code`)), chromedp.WaitVisible(chromedp.CSS(`ul.codes`)))
	b.axeEverywhere(source, "recovery codes (de) page")
	b.do(chromedp.Click(chromedp.CSS(`#saved`)), chromedp.Click(chromedp.CSS(`#continue`)))
	b.waitText(`body`, "Hello, demo!")
	b.do(chromedp.Navigate(s.Base+"/.smsgate/devices"), chromedp.WaitVisible(chromedp.CSS(`ul.devices`)))
	b.axeEverywhere(source, "devices (de) page")
	b.do(chromedp.Click(chromedp.CSS(`form:has(input[name="action"][value="app"]) button`)), chromedp.WaitVisible(chromedp.CSS(`img.qr`)))
	b.axeEverywhere(source, "adding an authenticator app (de) page")
	secret := strings.TrimSpace(b.text(`code.secret`))
	b.do(chromedp.SendKeys(chromedp.CSS(`#code`), sitetest.AppCode(t, secret)), chromedp.Submit(chromedp.CSS(`#code`)), chromedp.WaitVisible(chromedp.CSS(`ul.devices`)))
	b.done()
	b = newChrome(t)
	b.headers("demo", "de")
	b.do(chromedp.Navigate(s.Base+"/.smsgate/verify"), chromedp.WaitVisible(chromedp.CSS(`#app-code`)),
		chromedp.Click(chromedp.CSS(`details.another summary`)), chromedp.WaitVisible(chromedp.CSS(`input[name=action][value=send] ~ button`)))
	b.axeEverywhere(source, "verify, app first (de) page")
}

// TestPagesPassAxeLoginForm: the login and invite pages of a site where
// users name themselves (a login form naming none: carol's phone the
// admin's; an invite for dan, as none is made for a user whose phone the
// config gives).
func TestPagesPassAxeLoginForm(t *testing.T) {
	sitetest.Parallel(t)
	source := axeSource(t)
	s := sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		store badger {DIR}
		provider log
	}
	respond "hi"
}`)
	if st, out := sitetest.Admin(t, "POST", "/smsgate/users", `{"realm":"localhost","user":"carol","phone":"+14155552671"}`); st != http.StatusOK {
		t.Fatalf("carol's phone: %d %s", st, out)
	}
	_, body := sitetest.Admin(t, "POST", "/smsgate/invites", `{"realm":"localhost","user":"dan","ttl":"1h"}`)
	var inv struct{ Path string }
	if json.Unmarshal([]byte(body), &inv) != nil || inv.Path == "" {
		t.Fatalf("an invite for dan: %s", body)
	}
	b := newChrome(t)
	b.headers("", "de")
	b.do(chromedp.Navigate(s.Base+"/.smsgate/login"), chromedp.WaitVisible(chromedp.CSS(`#username`)))
	b.axeEverywhere(source, "login (de) page")
	b.done()
	b = newChrome(t)
	b.do(chromedp.Navigate(s.Base+"/.smsgate/login"), chromedp.WaitVisible(chromedp.CSS(`#username`)))
	b.axeEverywhere(source, "login page")
	b.do(chromedp.SendKeys(chromedp.CSS(`#username`), "carol"), chromedp.Submit(chromedp.CSS(`#username`)), chromedp.WaitVisible(chromedp.CSS(`#code`)))
	b.axeEverywhere(source, "verify after a login form page")
	b.do(chromedp.Navigate(s.Base+inv.Path), chromedp.WaitVisible(chromedp.CSS(`button`)))
	b.axeEverywhere(source, "invite page")
}
