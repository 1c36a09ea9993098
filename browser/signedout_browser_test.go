package browser_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestConsoleEndsASignedOutSessionsInvitesInABrowser (logout39): alice,
// an admin, mints at the console an invite for dan in one browser and
// signs out there. Her sessions on the console, in Chromium (its CSP
// enforced), with no violation axe-core finds, light and dark, phone and
// desktop: the signed-out session listed after her live one, with its
// open invite and "End its invites"; she presses it, the console says
// they ended and lists it no more.
func TestConsoleEndsASignedOutSessionsInvitesInABrowser(t *testing.T) {
	sitetest.Parallel(t)
	source := axeSource(t)
	s := sitetest.Start(t, sitetest.InvitingSite)

	other := sitetest.NewClient(t, "")
	tok := other.CSRF("/.smsgate/login")
	sitetest.Expect(t, other.Post("/.smsgate/login", url.Values{"username": {"alice"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, other.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")
	const dans = "/.smsgate/admin/user?name=dan"
	m := sitetest.CSRFField.FindStringSubmatch(other.Get(dans).Text)
	if m == nil {
		t.Fatal("no console for dan")
	}
	sitetest.ConsoleDone(t, other.PostWith(dans, url.Values{"action": {"invite"}, "csrf": {m[1]}}, map[string]string{"Origin": s.Base}), "invite")
	tok = sitetest.CSRFField.FindStringSubmatch(other.Get("/.smsgate/logout").Text)[1]
	sitetest.Expect(t, other.Post("/.smsgate/logout", url.Values{"csrf": {tok}}), http.StatusOK, "")

	b := newChrome(t)
	s.Advance(time.Minute) // past alice's last send's cooldown
	const console = "/.smsgate/admin/user?name=alice"
	b.do(chromedp.Navigate(s.Base+console), chromedp.WaitVisible(chromedp.CSS(`#username`)),
		chromedp.SendKeys(chromedp.CSS(`#username`), "alice"), chromedp.Submit(chromedp.CSS(`#username`)), chromedp.WaitVisible(chromedp.CSS(`#code`)))
	b.do(chromedp.SetValue(chromedp.CSS(`#code`), s.LastCode()), chromedp.Submit(chromedp.CSS(`#code`)), chromedp.WaitVisible(chromedp.CSS(`input[value=end-signed-out] ~ button`)))
	if text := b.text(`table.sessions`); !strings.Contains(text, "Signed out; 1 invite link minted in it is still open") || !strings.Contains(text, "Your own session, in this browser") {
		t.Fatalf("the console's sessions: %q", text)
	}
	b.axeEverywhere(source, "a user's sessions, one signed out with an invite open")
	b.do(chromedp.Click(chromedp.CSS(`input[value=end-signed-out] ~ button`)))
	b.waitText(`p.done`, "The invite links minted in that signed-out session have ended")
	b.axeEverywhere(source, "a user's sessions, the signed-out one's invites ended")
	if text := b.text(`main`); strings.Contains(text, "Signed out; ") {
		t.Fatalf("the console still lists the signed-out session, its invites ended: %q", text)
	}
	if len(b.problems) > 0 {
		t.Fatalf("the browser reported: %v", b.problems)
	}
}
