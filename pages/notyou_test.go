package pages_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestNotYouSaysWhatWasTyped (walk38): at a login form, the verify page's
// way back to it says "another number" after a phone number was typed,
// "another name" after a name, in English and German; a name that begins
// with "+" is a name. Through a real Caddy. Before, it said "another
// name" after a number too.
func TestNotYouSaysWhatWasTyped(t *testing.T) {
	sitetest.Parallel(t)
	s, _, _ := carolAtTheCode(t, "limit number off")
	for _, c := range []struct{ typed, lang, says, not string }{
		{"+1 415 555 2671", "en", "Not you? Sign in with another number", "another name"},
		{"+1 415 555 0100", "de", "Nicht Sie? Mit einer anderen Nummer anmelden", "anderen Namen"},
		{"carol", "en", "Not you? Sign in with another name", "another number"},
		{"carol", "de", "Nicht Sie? Mit einem anderen Namen anmelden", "anderen Nummer"},
		{"+dave", "en", "Not you? Sign in with another name", "another number"},
	} {
		s.Advance(10 * time.Minute) // past the last send's cooldown
		b := sitetest.NewClient(t, "")
		b.Header = http.Header{"Accept-Language": {c.lang}}
		tok := b.CSRF("/.smsgate/login")
		sitetest.Expect(t, b.Post("/.smsgate/login", url.Values{"username": {c.typed}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
		page := b.Get("/.smsgate/verify")
		if !strings.Contains(page.Text, c.says) || strings.Contains(page.Text, c.not) {
			t.Errorf("%q typed, %s: the page does not say %q alone:\n%s", c.typed, c.lang, c.says, page.Text)
		}
	}
}
