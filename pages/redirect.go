package pages

import (
	"fmt"
	"net/url"
	"strings"

	"golang.org/x/net/publicsuffix"

	"github.com/smsgate/caddy-smsgate/internal/cfutil"
	"github.com/smsgate/caddy-smsgate/internal/localhost"
)

// maxRedirect bounds the length of a return target.
const maxRedirect = 2048

// safeRedirect returns rd if it is safe to send a browser to after sign-in:
// a path on this site, or an https URL on one of hosts (exact names or
// `*.example.com`; plain http only for *.localhost development hosts). Anything else — `//evil.example`, `/\evil.example`,
// `https:evil.example`, `javascript:`, control characters — gives "".
func safeRedirect(rd string, hosts []string) string {
	if rd == "" || len(rd) > maxRedirect {
		return ""
	}
	for i := 0; i < len(rd); i++ {
		if c := rd[i]; c < 0x21 || c == 0x7f || c == '\\' {
			return ""
		}
	}
	u, err := url.Parse(rd)
	if err != nil || u.User != nil || u.Opaque != "" {
		return ""
	}
	if strings.HasPrefix(rd, "/") {
		if strings.HasPrefix(rd, "//") || u.Scheme != "" || u.Host != "" {
			return ""
		}
		return rd
	}
	secure := u.Scheme == "https" || (u.Scheme == "http" && localhost.Is(u.Hostname()))
	if !secure || u.Host == "" || !plainHost(u.Hostname()) || !hostAllowed(u.Hostname(), hosts) {
		return ""
	}
	return rd
}

// plainHost reports whether host is written as browsers send one (letters,
// digits, '-' and '.'; a name in another script in its xn-- form): a host
// that ends like an allowed one but holds a character a browser maps to
// another ("evil.example／.corp.example", U+FF0F, is "evil.example/…"), an
// escape or an IPv6 zone is not a host of the owner's, whatever its end.
func plainHost(host string) bool {
	for i := 0; i < len(host); i++ {
		if c := host[i] | 0x20; !(c >= 'a' && c <= 'z' || host[i] >= '0' && host[i] <= '9' || host[i] == '-' || host[i] == '.') {
			return false
		}
	}
	return host != ""
}

// hostAllowed matches host against exact names and `*.` suffix patterns.
func hostAllowed(host string, hosts []string) bool {
	host = strings.ToLower(host)
	for _, h := range hosts {
		h = strings.ToLower(h)
		if host == h {
			return true
		}
		if suffix, ok := strings.CutPrefix(h, "*"); ok && strings.HasPrefix(suffix, ".") && strings.HasSuffix(host, suffix) && len(host) > len(suffix) {
			return true
		}
	}
	return false
}

// CheckRedirectHosts checks the redirect_hosts option: host names, or
// `*.` and a domain of one owner. `*.com` (a public suffix) would send
// browsers, signed in, to anyone's site; `*`, a port, a path or a name in
// another script than its xn-- form (return targets' hosts must be written
// as browsers send them: plainHost) or with a trailing dot matched
// nothing, silently; and each entry goes into the pages' CSP.
func CheckRedirectHosts(hosts []string) error {
	for _, h := range hosts {
		name := strings.TrimPrefix(h, "*.")
		if u, err := url.Parse("https://" + name); err != nil || u.Host != name || u.Hostname() != name || name == "" || strings.ContainsAny(name, "*;,' ") {
			return fmt.Errorf("redirect_hosts: %s must be a host name such as app.example.com, or *.example.com", h)
		}
		if strings.HasSuffix(name, ".") {
			// It matched only targets written with the dot: another
			// origin than the owner's app, whose own targets it missed.
			return fmt.Errorf("redirect_hosts: %s must be written without its trailing dot: %s", h, strings.TrimSuffix(h, "."))
		}
		if !plainHost(name) {
			// Return targets are matched as browsers send their hosts: a
			// name in another script matched none, silently.
			ascii := cfutil.ASCIIHost(name)
			if !plainHost(ascii) {
				return fmt.Errorf("redirect_hosts: %s must be a host name such as app.example.com, or *.example.com", h)
			}
			return fmt.Errorf("redirect_hosts: %s must be written as browsers send it: %s", h, strings.Replace(h, name, ascii, 1))
		}
		if ps, _ := publicsuffix.PublicSuffix(name); h != name && ps == name && !localhost.Is(name) {
			return fmt.Errorf("redirect_hosts: %s takes every site under the public suffix %s, anyone's: name your own domain, such as *.example.com", h, name)
		}
	}
	return nil
}
