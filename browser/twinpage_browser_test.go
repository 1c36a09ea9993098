package browser_test

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestACaseTwinsPagePassesAxe: Alice, a case twin of an enrolled alice on
// basic_auth, meets her own page at the enroll step (walk29, 61, 62): in
// English and German, at a phone's and a desktop's size, no violation
// axe-core finds; its Sign out signs her out.
func TestACaseTwinsPagePassesAxe(t *testing.T) {
	sitetest.Parallel(t)
	source := axeSource(t)
	s := sitetest.Start(t, fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	basic_auth argon2id {
		alice %[1]s
		Alice %[1]s
	}
	smsgate {
		store badger {DIR}
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`, sitetest.DemoHash))
	sitetest.Enroll(t, s, sitetest.NewClient(t, "alice"), "+14155550101")
	b := newChrome(t)
	for _, lang := range []string{"en", "de"} {
		b.headers("Alice", lang)
		b.do(chromedp.Navigate(s.Base+"/"), chromedp.WaitVisible(chromedp.CSS(`#who`)))
		b.axeEverywhere(source, "a case twin's page ("+lang+")")
	}
	b.do(chromedp.Click(chromedp.CSS(`main form[action$="logout"] button`)), chromedp.WaitVisible(chromedp.CSS(`main a[href="/"]`)))
}
