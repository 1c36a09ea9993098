package pages

import (
	"testing"

	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/words"
)

// TestATrustedNameIsSaidInTheReadersLanguage: a trusted browser's kind
// and system, as this release keeps them, and its name as a page of any
// language of the previous release worded it, read as the same parts; a
// name no language reads (a release's older words, an admin's) gives none,
// and is shown as it is.
func TestATrustedNameIsSaidInTheReadersLanguage(t *testing.T) {
	p := &Pages{Config: Config{Words: words.English}}
	for _, c := range []struct {
		tb                      session.TrustedBrowser
		browser, system, en, de string
	}{
		{session.TrustedBrowser{Browser: "Firefox", System: "Linux"}, "Firefox", "Linux", "Firefox on Linux", "Firefox unter Linux"},
		{session.TrustedBrowser{System: "Windows"}, "", "Windows", "A browser on Windows", "Ein Browser unter Windows"},
		{session.TrustedBrowser{}, "", "", "A browser", "Ein Browser"},
		{session.TrustedBrowser{Browser: "Safari"}, "Safari", "", "Safari", "Safari"},
		// The previous release's.
		{session.TrustedBrowser{Browser: "Firefox unter Linux"}, "Firefox", "Linux", "Firefox on Linux", "Firefox unter Linux"},
		{session.TrustedBrowser{Browser: "Chrome on Android"}, "Chrome", "Android", "Chrome on Android", "Chrome unter Android"},
		{session.TrustedBrowser{Browser: "Ein Browser unter Windows"}, "", "Windows", "A browser on Windows", "Ein Browser unter Windows"},
		{session.TrustedBrowser{Browser: "A browser"}, "", "", "A browser", "Ein Browser"},
		{session.TrustedBrowser{Browser: "my laptop on the desk"}, "", "", "my laptop on the desk", "my laptop on the desk"},
	} {
		browser, system, ok := p.trustedParts(&c.tb)
		en, de := c.tb.Browser, c.tb.Browser
		if ok {
			en, de = p.nameBrowser("en", browser, system), p.nameBrowser("de", browser, system)
		}
		if browser != c.browser || system != c.system || en != c.en || de != c.de {
			t.Errorf("%+v reads %q, %q: %q and %q; want %q, %q: %q and %q", c.tb, browser, system, en, de, c.browser, c.system, c.en, c.de)
		}
	}
}
