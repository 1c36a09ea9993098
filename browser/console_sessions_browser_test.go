package browser_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestConsoleSessionsInABrowser: a user's sessions on the console, in
// Chromium (its CSP enforced), with no violation axe-core finds, light and
// dark, phone and desktop; the admin ends one with its button, and that
// browser is signed out. And the README's screenshot of them.
func TestConsoleSessionsInABrowser(t *testing.T) {
	sitetest.Parallel(t)
	source := axeSource(t)
	s := sitetest.Start(t, sitetest.NamedUsersSite)
	laptop, phone := sitetest.NewClient(t, ""), sitetest.NewClient(t, "")
	laptop.Header = http.Header{"User-Agent": {sitetest.FirefoxOnLinux}}
	phone.Header = http.Header{"User-Agent": {sitetest.SafariOnIPhone}}
	sitetest.SignInAs(t, s, laptop, "carol")
	sitetest.SignInAs(t, s, phone, "carol")

	b := newChrome(t)
	s.Advance(time.Minute) // past carol's last send's cooldown (alice has her own)
	b.do(chromedp.Navigate(s.Base+"/.smsgate/admin/user?name=carol"), chromedp.WaitVisible(chromedp.CSS(`#username`)),
		chromedp.SendKeys(chromedp.CSS(`#username`), "alice"), chromedp.Submit(chromedp.CSS(`#username`)), chromedp.WaitVisible(chromedp.CSS(`#code`)))
	b.do(chromedp.SetValue(chromedp.CSS(`#code`), s.LastCode()), chromedp.Submit(chromedp.CSS(`#code`)), chromedp.WaitVisible(chromedp.CSS(`table.sessions`)))
	b.axeEverywhere(source, "a user's sessions")
	b.do(chromedp.Navigate(s.Base+"/.smsgate/admin/user?name=carol#sessions"), chromedp.WaitVisible(chromedp.CSS(`table.sessions`)))
	b.shoot("console-sessions")
	if rows := b.text(`table.sessions tbody`); !strings.Contains(rows, "Firefox on Linux") || !strings.Contains(rows, "Safari on iOS") {
		t.Fatalf("the sessions listed: %q", rows)
	}
	// The newest first: the phone's. Its button ends it.
	b.do(chromedp.Click(chromedp.CSS(`table.sessions tbody tr:first-child button`)))
	b.waitText(`p.done`, "The session has ended")
	// Post/Redirect/Get: the page is a GET's, which a reload does not repost.
	if at := b.eval(`location.pathname + location.search`); at != "/.smsgate/admin/user?name=carol" {
		t.Fatalf("after ending a session, the browser is at %q", at)
	}
	b.axeEverywhere(source, "a user's sessions, one ended")
	if rows := b.text(`table.sessions tbody`); strings.Contains(rows, "Safari on iOS") || !strings.Contains(rows, "Firefox on Linux") {
		t.Fatalf("after ending the phone's session: %q", rows)
	}
	s.Advance(2 * time.Second) // the revocation log is read every second
	sitetest.Expect(t, phone.Get("/"), http.StatusFound, "/.smsgate/login?rd=%2F")
	sitetest.Expect(t, laptop.Get("/"), http.StatusOK, "")
	if len(b.problems) > 0 {
		t.Fatalf("the browser reported: %v", b.problems)
	}
}
