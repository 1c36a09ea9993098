package pages

import (
	"testing"

	"github.com/smsgate/caddy-smsgate/words"
)

// TestATrustedNameIsSaidInTheReadersLanguage: a trusted browser's name,
// as a page of any language worded it, is said in the reader's; one no
// language reads (a release's older words, an admin's) as it is.
func TestATrustedNameIsSaidInTheReadersLanguage(t *testing.T) {
	p := &Pages{Config: Config{Words: words.English}}
	for _, c := range []struct{ stored, en, de string }{
		{"Firefox unter Linux", "Firefox on Linux", "Firefox unter Linux"},
		{"Chrome on Android", "Chrome on Android", "Chrome unter Android"},
		{"Ein Browser unter Windows", "A browser on Windows", "Ein Browser unter Windows"},
		{"A browser", "A browser", "Ein Browser"},
		{"Safari", "Safari", "Safari"},
		{"my laptop on the desk", "my laptop on the desk", "my laptop on the desk"},
	} {
		if en, de := p.trustedName("en", c.stored), p.trustedName("de", c.stored); en != c.en || de != c.de {
			t.Errorf("%q reads %q and %q; want %q and %q", c.stored, en, de, c.en, c.de)
		}
	}
}
