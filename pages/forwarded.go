package pages

import (
	"net/http"
	"strings"
)

// OneForwardedHost reports whether the headers a proxy names the request
// it asks about by (X-Original-URL: nginx's; X-Forwarded-Host: Caddy's
// forward_auth, Traefik's) name one host at most, as a forward-auth
// check believes them. Each proxy sets its own and passes the client's
// others on: a client's X-Original-URL reaches the check beside Caddy's
// X-Forwarded-Host, and a compromised app's page may send one to its own
// origin, naming another app, which the identity assertion handed to the
// first app would name (TestAnAssertionNamesTheAppTheProxyNames). Where
// they name two, the check names none. It allocates nothing.
func OneForwardedHost(h http.Header) bool {
	urls, hosts := h["X-Original-Url"], h["X-Forwarded-Host"]
	one := ""
	same := func(host string) bool {
		host = strings.TrimSuffix(hostOnly(strings.TrimSpace(host)), ".")
		if host == "" || one == "" {
			one = host
		}
		return strings.EqualFold(host, one)
	}
	for _, u := range urls {
		_, rest, _ := strings.Cut(u, "://")
		if end := strings.IndexAny(rest, "/?#"); end >= 0 {
			rest = rest[:end]
		}
		if at := strings.LastIndexByte(rest, '@'); at >= 0 {
			rest = rest[at+1:]
		}
		if !same(rest) {
			return false
		}
	}
	for _, v := range hosts {
		for host := range strings.SplitSeq(v, ",") {
			if !same(host) {
				return false
			}
		}
	}
	return true
}

// AppOf is the app an original request's URL u names, as a forward-auth
// check's assertion is kept by: u up to its path ("https://app.example.com"),
// so that one is signed for an app, not for each of its pages (its images,
// its queries: each would be signed and kept anew). A substring: no
// allocation.
func AppOf(u string) string {
	_, rest, ok := strings.Cut(u, "://")
	if end := strings.IndexAny(rest, "/?#"); ok && end >= 0 {
		return u[:len(u)-len(rest)+end]
	}
	return u
}
