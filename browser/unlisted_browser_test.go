package browser_test

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/session"
)

// The hold store's count of the sessions pushed off a user's list fails
// while its file "fail" exists (TestConsoleEndsTheSessionsNotListedInABrowser).
func init() {
	sitetest.Holds.Fail = func(key string) bool { return strings.HasPrefix(key, "sessions-unlisted/") }
}

// TestConsoleEndsTheSessionsNotListedInABrowser: a browser trusted for
// carol signs in by its trust until its first session is pushed off her
// list. Her sessions on the console, in Chromium (its CSP enforced), with
// no violation axe-core finds, light and dark, phone and desktop: first
// while the store cannot count the sessions not listed (the error
// paragraph says some may be live), then with the count and its button;
// the admin presses it, the console says they ended and counts them no
// more, and the first session is refused. And the README's screenshot.
func TestConsoleEndsTheSessionsNotListedInABrowser(t *testing.T) {
	sitetest.Parallel(t)
	source := axeSource(t)
	dir := t.TempDir()
	site := strings.Replace(sitetest.NamedUsersSite, "admins alice", "admins alice\n\t\tremember 30d", 1)
	site = strings.Replace(site, "store badger {DIR}", "store smsgate_test_hold "+dir+" badger {DIR}", 1)
	s := sitetest.Start(t, site)

	trusted := sitetest.NewClient(t, "")
	trusted.Header = http.Header{"User-Agent": {sitetest.FirefoxOnLinux}}
	s.Advance(time.Minute)
	tok := trusted.CSRF("/.smsgate/login")
	sitetest.Expect(t, trusted.Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, trusted.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}, "remember": {"1"}}), http.StatusSeeOther, "/")
	first := sitetest.NewClient(t, "")
	first.SetCookie("smsgate_session", trusted.Cookie("smsgate_session"))
	for range session.MaxListed {
		s.Advance(time.Second)
		trusted.SetCookie("smsgate_session", "")
		sitetest.Expect(t, trusted.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/")
	}
	sitetest.ExpectBody(t, first.Get("/"), "Hello, carol!")

	b := newChrome(t)
	s.Advance(time.Minute) // past carol's last send's cooldown (alice has her own)
	const console = "/.smsgate/admin/user?name=carol"
	b.do(chromedp.Navigate(s.Base+console), chromedp.WaitVisible(chromedp.CSS(`#username`)),
		chromedp.SendKeys(chromedp.CSS(`#username`), "alice"), chromedp.Submit(chromedp.CSS(`#username`)), chromedp.WaitVisible(chromedp.CSS(`#code`)))
	b.do(chromedp.SetValue(chromedp.CSS(`#code`), s.LastCode()), chromedp.Submit(chromedp.CSS(`#code`)), chromedp.WaitVisible(chromedp.CSS(`table.sessions`)))

	// The store cannot count them: the list stands, and says so.
	if err := os.WriteFile(filepath.Join(dir, "fail"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// (The page again, then its sessions: a navigation that only adds
	// the fragment loads nothing.)
	b.do(chromedp.Navigate(s.Base+console), chromedp.WaitVisible(chromedp.CSS(`table.sessions`)),
		chromedp.Navigate(s.Base+console+"#sessions"))
	if err := os.Remove(filepath.Join(dir, "fail")); err != nil {
		t.Fatal(err)
	}
	if text := b.text(`#sessions ~ p.error`); !strings.Contains(text, "could not be counted: some may be live") {
		t.Fatalf("the console, the count failing: %q", text)
	}
	b.axeEverywhere(source, "a user's sessions, the count of those not listed failing")
	b.shotAt = `#sessions ~ p.error`
	b.shoot("console-sessions-uncounted")

	// Counted: one, and the button that ends it.
	b.do(chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`input[value=end-unlisted] ~ button`)))
	if text := b.text(`main`); !strings.Contains(text, "Sessions pushed off this list by newer ones: 1") || strings.Contains(text, "could not be counted") {
		t.Fatalf("the console, counting: %q", text)
	}
	b.axeEverywhere(source, "a user's sessions, one not listed")
	b.shotAt = `form.single` // below the list's 20 rows
	b.shoot("console-sessions-unlisted")
	b.shotAt = ""
	b.do(chromedp.Click(chromedp.CSS(`input[value=end-unlisted] ~ button`)))
	b.waitText(`p.done`, "The sessions not listed have ended")
	b.axeEverywhere(source, "a user's sessions, those not listed ended")
	if text := b.text(`main`); strings.Contains(text, "Sessions pushed off this list") {
		t.Fatalf("the console still counts the sessions not listed, once ended: %q", text)
	}
	s.Advance(2 * time.Second) // the revocation log is read every second
	if res := first.Get("/"); res.StatusCode == http.StatusOK {
		t.Errorf("the first session, pushed off the list, after the admin ended those: %s", res.Text)
	}
	if len(b.problems) > 0 {
		t.Fatalf("the browser reported: %v", b.problems)
	}
}
