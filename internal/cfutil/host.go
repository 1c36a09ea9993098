package cfutil

import (
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// ASCIIHost is host as browsers send it: a name in another script in its
// xn-- form (bücher.example is xn--bcher-kva.example), as Caddy's host
// matcher takes it; host itself when it is ASCII, or when IDNA refuses it
// (then it still holds a character beyond ASCII: IsASCII tells). The one
// place a host is converted so (the site's origin, the realm's host,
// cookie_domain, redirect_hosts, public_origin and the other origins).
func ASCIIHost(host string) string {
	if IsASCII(host) {
		return host
	}
	if ascii, err := idna.Lookup.ToASCII(host); err == nil {
		return ascii
	}
	return host
}

// IsASCII reports whether s holds no character beyond ASCII.
func IsASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// UnicodeHost is host as people write it: an xn-- name in its own script
// (xn--bcher-kva.example is bücher.example), for messages to people.
func UnicodeHost(host string) string {
	if name, err := idna.ToUnicode(host); err == nil {
		return name
	}
	return host
}
