package browser_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestTheConsolesInviteLinkCopies (walk37's 26-invite-de-360-light): the
// console's invite, in German at a phone's 360 px, has a "Kopieren"
// beside its link, as the app's key has, which puts the whole link on
// the clipboard and says "Kopiert". Before, the 90-character link, over
// four lines, had to be selected by hand.
func TestTheConsolesInviteLinkCopies(t *testing.T) {
	sitetest.Parallel(t)
	b, s := costsPage(t, "de")
	b.do(chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile))
	b.view.w = 360
	b.do(chromedp.Navigate(s.Base+"/.smsgate/admin/user?name=frank"), chromedp.WaitVisible(chromedp.CSS(`button[value=invite]`)))
	b.next(chromedp.Click(chromedp.CSS(`button[value=invite]`)))
	b.do(chromedp.WaitVisible(chromedp.CSS(`a.invite-link`)))
	link := b.text(`a.invite-link`)
	if !strings.Contains(link, "/.smsgate/invite?token=") {
		t.Fatalf("the invite's link: %q", link)
	}
	if b.eval(`String(!!document.querySelector("a.invite-link ~ button[data-copy-text]:not([hidden])"))`) != "true" {
		t.Fatalf("no Kopieren beside the invite's link: %q", b.text(`section`))
	}
	b.eval(`navigator.clipboard.writeText = function (t) { window.copied = (window.copied || []).concat([t]); return Promise.resolve(); }; ""`)
	b.do(chromedp.Click(chromedp.CSS(`a.invite-link ~ button[data-copy-text]`)))
	b.waitText(`a.invite-link ~ button[data-copy-text]`, "Kopiert")
	if got := b.eval(`(window.copied || []).join("|")`); got != link {
		t.Fatalf("copied %q, the link is %q", got, link)
	}
	if faults := b.eval(narrowFaults); faults != "" {
		t.Errorf("the invite at 360 px: %s", faults)
	}
	noProblems(t, b)
}
