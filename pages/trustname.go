package pages

import (
	"slices"
	"strings"
)

// trustedName is a trusted browser's name as its record holds it, worded
// in the language of the page it was trusted on ("Firefox unter Linux"),
// said in lang ("Firefox on Linux"): its kind and system read back by
// each language's name.browser (and name.some_browser) and worded again
// (walk36: a German page listed "Chrome on Linux"). A name no language
// reads, its kind and system among browserOf's, is shown as it is.
func (p *Pages) trustedName(lang, stored string) string {
	for _, l := range p.Words.Langs() {
		some := p.Words.T(l, "name.some_browser")
		if stored == some {
			return p.nameBrowser(lang, "", "")
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
		one, two, ok := strings.Cut(stored[len(prefix):len(stored)-len(suffix)], mid)
		if !ok || one == "" || two == "" {
			continue
		}
		if b > s {
			one, two = two, one
		}
		if one == some {
			one = ""
		}
		if (one == "" || named(browserNames, one)) && named(systemNames, two) {
			return p.nameBrowser(lang, one, two)
		}
	}
	return stored
}

// named reports whether name is one of names' (browserNames, systemNames).
func named(names [][2]string, name string) bool {
	return slices.ContainsFunc(names, func(n [2]string) bool { return n[1] == name })
}
