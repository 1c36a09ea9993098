package pages

import (
	"slices"
	"strings"

	"github.com/smsgate/caddy-smsgate/session"
)

// trustedParts are a trusted browser's kind and system by name
// ("Firefox", "Linux"; "" for unknown), for the page to word in its
// reader's language (nameBrowser). This release keeps them apart in the
// trust's record (session.TrustedBrowser); the previous release kept the
// whole name as the page that trusted it worded it ("Firefox unter
// Linux", "Ein Browser"), in Browser, with no System: readWorded reads
// that back, at each listing (nothing is rewritten). ok is false for such
// a name that no language reads: it is shown as it is.
func (p *Pages) trustedParts(tb *session.TrustedBrowser) (browser, system string, ok bool) {
	if tb.System != "" || tb.Browser == "" || named(browserNames, tb.Browser) {
		return tb.Browser, tb.System, true // this release's (a kind alone reads the same either way)
	}
	return p.readWorded(tb.Browser)
}

// readWorded reads a trust's name as the previous release worded it, by
// each language's name.browser (and name.some_browser), back into its
// kind and system, each one of browserOf's ("my laptop on the desk" is
// not "my laptop" on "the desk"). For trusts of the previous release
// only: it can go once the longest `remember` (400 days) has passed since
// the upgrade.
func (p *Pages) readWorded(stored string) (browser, system string, ok bool) {
	for _, l := range p.Words.Langs() {
		some := p.Words.T(l, "name.some_browser")
		if stored == some {
			return "", "", true
		}
		// The pattern, its two places marked: "\x00 on \x01".
		pat := p.Words.T(l, "name.browser", "browser", "\x00", "system", "\x01")
		b, s := strings.Index(pat, "\x00"), strings.Index(pat, "\x01")
		if b < 0 || s < 0 {
			continue
		}
		first, second := min(b, s), max(b, s)
		prefix, mid, suffix := pat[:first], pat[first+1:second], pat[second+1:]
		if len(stored) < len(prefix)+len(mid)+len(suffix) || !strings.HasPrefix(stored, prefix) || !strings.HasSuffix(stored, suffix) {
			continue
		}
		one, two, found := strings.Cut(stored[len(prefix):len(stored)-len(suffix)], mid)
		if !found || one == "" || two == "" {
			continue
		}
		if b > s {
			one, two = two, one
		}
		if one == some {
			one = ""
		}
		if (one == "" || named(browserNames, one)) && named(systemNames, two) {
			return one, two, true
		}
	}
	return "", "", false
}

// named reports whether name is one of names' (browserNames, systemNames).
func named(names [][2]string, name string) bool {
	return slices.ContainsFunc(names, func(n [2]string) bool { return n[1] == name })
}
