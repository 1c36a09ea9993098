package browser_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestStrongestWayFirst: alice, who has an authenticator app, meets its
// form first in a new browser, texts behind "Try another way", and the
// page names her with "Not you?" (which can only cancel the gate's sign-in:
// her name comes from the site's own login, and the page says so).
func TestStrongestWayFirst(t *testing.T) {
	s, b := aliceEnrolled(t, "")
	b.do(chromedp.Navigate(s.Base+"/.smsgate/devices"), chromedp.WaitVisible(chromedp.CSS(`ul.devices`)),
		chromedp.Click(chromedp.CSS(`form:has(input[name="action"][value="app"]) button`)), chromedp.WaitVisible(chromedp.CSS(`img.qr`)))
	secret := strings.TrimSpace(b.text(`code.secret`))
	b.do(chromedp.SendKeys(chromedp.CSS(`#code`), sitetest.AppCode(t, secret)), chromedp.Submit(chromedp.CSS(`#code`)),
		chromedp.WaitVisible(chromedp.CSS(`ul.devices`)))
	s.Advance(30 * time.Second) // the confirming code is used

	b.done()
	fresh := newChrome(t)
	fresh.basicAuth("alice")
	sent := s.Sent()
	fresh.do(chromedp.Navigate(s.Base+"/wiki/start"), chromedp.WaitVisible(chromedp.CSS(`#app-code`)))
	fresh.shoot("verify-app-first")
	if who := fresh.text(`#who`); !strings.Contains(who, "Signing in as alice.") || !strings.Contains(who, "Not you?") || !strings.Contains(who, "sign out there too") {
		t.Fatalf("the page does not say who is signing in: %q", who)
	}
	if href := fresh.eval(`document.querySelector("#who a").getAttribute("href")`); href != "/.smsgate/logout" {
		t.Fatalf("\"Not you?\" leads to %q", href)
	}
	if got := fresh.eval(`String(!!(document.querySelector("details.app").compareDocumentPosition(document.querySelector("input[name=action][value=send]")) & Node.DOCUMENT_POSITION_FOLLOWING))`); got != "true" {
		t.Fatal("the texts come before the app")
	}
	if got := fresh.eval(`String(document.querySelector("input[name=action][value=send]").closest("details.another")?.open)`); got != "false" {
		t.Fatalf("the texts are not behind a closed \"Try another way\" (open: %s)", got)
	}
	if fresh.text(`details.another summary`) != "Try another way" {
		t.Fatalf("the other ways are under %q", fresh.text(`details.another summary`))
	}
	// The other way is one click away.
	fresh.do(chromedp.Click(chromedp.CSS(`details.another summary`)), chromedp.WaitVisible(chromedp.CSS(`input[name=action][value=send] ~ button`)))
	fresh.do(chromedp.SendKeys(chromedp.CSS(`#app-code`), sitetest.AppCode(t, secret)), chromedp.Submit(chromedp.CSS(`#app-code`)))
	fresh.waitText(`body`, "Hello, alice!")
	if s.Sent() != sent {
		t.Fatalf("%d texts to a user who used her app", s.Sent()-sent)
	}

	// "Not you?" cancels the gate's sign-in in this browser.
	fresh.done()
	other := newChrome(t)
	other.basicAuth("alice")
	other.do(chromedp.Navigate(s.Base+"/wiki/start"), chromedp.WaitVisible(chromedp.CSS(`#who a`)),
		chromedp.Click(chromedp.CSS(`#who a`)), chromedp.WaitVisible(chromedp.CSS(`main button`)))
	other.do(chromedp.Click(chromedp.CSS(`main button`)))
	other.waitText(`main`, "You are signed out.")
}

// TestNotYouOnALoginForm: at a gate with a login form, "Not you?" goes
// back to the form; the page does not echo the name or tell what it has
// (the order is the same for every name).
func TestNotYouOnALoginForm(t *testing.T) {
	_, b := carolAtTheCode(t)
	if who := b.text(`#who`); who != "Not you? Sign in with another name" {
		t.Fatalf("\"Not you?\" on a login form's gate: %q", who)
	}
	if b.eval(`String(!!document.querySelector("details.another"))`) != "false" {
		t.Fatal("a login form's page orders the ways by what the name has")
	}
	b.do(chromedp.Click(chromedp.CSS(`#who a`)), chromedp.WaitVisible(chromedp.CSS(`#username`)))
	if v := b.eval(`document.querySelector("#username").value`); v != "" {
		t.Fatalf("the login form keeps %q", v)
	}
}
