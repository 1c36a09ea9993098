package browser_test

import (
	"net/url"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAWrongRecoveryCodeKeepsFocusAtItsField (walk29, 70): in Chromium, a
// refused recovery code leaves focus in the recovery field (not the texted
// code's), that field says it is invalid and is described by the error,
// and what was typed is still there to mend. In German, as walked.
func TestAWrongRecoveryCodeKeepsFocusAtItsField(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "")
	alice := sitetest.NewClient(t, "alice")
	tok := alice.CSRF("/.smsgate/enroll")
	sitetest.Expect(t, alice.Post("/.smsgate/enroll", url.Values{"phone": {"+14155552671"}, "csrf": {tok}}), 303, "/.smsgate/verify")
	codes := sitetest.ExpectEnrolled(t, alice.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), "/")
	wrong := "ABCDE-FGH23"
	if codes[0] == wrong {
		wrong = "ABCDE-FGH24"
	}
	b := newChrome(t)
	b.headers("alice", "de-DE,de;q=0.9")
	b.do(chromedp.Navigate(s.Base+"/.smsgate/verify"), chromedp.WaitVisible(chromedp.CSS(`details.recovery summary`)),
		chromedp.Click(chromedp.CSS(`details.recovery summary`)), chromedp.WaitVisible(chromedp.CSS(`#recovery-code`)),
		chromedp.SendKeys(chromedp.CSS(`#recovery-code`), wrong), chromedp.Submit(chromedp.CSS(`#recovery-code`)))
	b.waitText(`#error`, "Wiederherstellungscode")
	if id := b.eval(`document.activeElement.id`); id != "recovery-code" {
		t.Errorf("focus is on %q, not the recovery field", id)
	}
	if v := b.eval(`document.getElementById("recovery-code").value`); v != wrong {
		t.Errorf("the typed code was lost: %q", v)
	}
	if v := b.eval(`document.getElementById("recovery-code").getAttribute("aria-invalid") + " " + document.getElementById("recovery-code").getAttribute("aria-describedby")`); v != "true error recovery-hint" {
		t.Errorf("the recovery field's aria: %q", v)
	}
}
