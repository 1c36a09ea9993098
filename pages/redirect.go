package pages

import (
	"fmt"
	"net/url"
	"strconv"
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
	if !secure || u.Host == "" || !plainHost(u.Hostname()) || !hostAllowed(u, hosts) {
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

// targetPort is u's port, "" for its scheme's default (written or not).
func targetPort(u *url.URL) string {
	if p := u.Port(); p != defaultPort(u.Scheme) {
		return p
	}
	return ""
}

// defaultPort is scheme's port where a URL names none.
func defaultPort(scheme string) string {
	switch scheme {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}

// hostAllowed matches u's host and port against exact names and `*.`
// suffix patterns, each with the scheme's default port unless it names
// one (the default written out is the default; `:*` is any): as a CSP
// source reads a host (and the pages' form-action, which browsers apply
// to the redirect, is one), and as oauth2-proxy's whitelist_domains does.
// app.example.com took https://app.example.com:444, another service than
// the one the owner listed (attack14).
func hostAllowed(u *url.URL, hosts []string) bool {
	host, port := strings.ToLower(u.Hostname()), targetPort(u)
	for _, h := range hosts {
		h, p := splitEntry(strings.ToLower(h))
		if p == defaultPort(u.Scheme) {
			p = ""
		}
		if p != "*" && p != port {
			continue
		}
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
// browsers, signed in, to anyone's site; `*`, a path or a name in
// another script than its xn-- form (return targets' hosts must be written
// as browsers send them: plainHost) or with a trailing dot matched
// nothing, silently; and each entry goes into the pages' CSP. A port
// (`:8443`, or `:*` for any) is the one its targets may name.
func CheckRedirectHosts(hosts []string) error {
	for _, h := range hosts {
		name, port := splitEntry(h)
		if n, err := strconv.Atoi(port); name != h && port != "*" && (err != nil || n < 1 || n > 65535 || port[0] == '0') {
			return fmt.Errorf("redirect_hosts: %s must end in a port from 1 to 65535, or :* for any", h)
		}
		name = strings.TrimPrefix(name, "*.")
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
		if ps, _ := publicsuffix.PublicSuffix(name); strings.HasPrefix(h, "*.") && ps == name && !localhost.Is(name) {
			return fmt.Errorf("redirect_hosts: %s takes every site under the public suffix %s, anyone's: name your own domain, such as *.example.com", h, name)
		}
	}
	return nil
}

// splitEntry parts a redirect_hosts entry into its host and port ("" for
// the scheme's default, "*" for any).
func splitEntry(h string) (host, port string) {
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.Contains(h[:i], ":") {
		if p := h[i+1:]; p == "*" || !strings.ContainsFunc(p, func(c rune) bool { return c < '0' || c > '9' }) {
			return h[:i], p
		}
	}
	return h, ""
}

// PortlessWarning is the load's warning of PortlessRedirectHost's entry.
const PortlessWarning = "a redirect_hosts entry without a port takes its scheme's default port only, and portal_url names another port: where the apps are served on it, write it (app.example.com:8080), or :* for any port"

// PortlessRedirectHost is the first entry of hosts naming no port where
// portalURL names one, and that port: its apps likely share the portal's
// port (as the forward-auth example's :8080 do), which such an entry does
// not take.
func PortlessRedirectHost(hosts []string, portalURL string) (host, port string) {
	u, err := url.Parse(portalURL)
	if err != nil || targetPort(u) == "" {
		return "", ""
	}
	for _, h := range hosts {
		if name, _ := splitEntry(h); name == h {
			return h, u.Port()
		}
	}
	return "", ""
}
