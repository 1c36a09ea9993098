package pages

import (
	"cmp"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
)

// oneForwardedHost reports whether the headers a proxy names the request
// it asks about by (X-Original-URL: nginx's; X-Forwarded-Host: Caddy's
// forward_auth, Traefik's) name one host at most, as a forward-auth
// check believes them. Each proxy sets its own and passes the client's
// others on: a client's X-Original-URL reaches the check beside Caddy's
// X-Forwarded-Host, and a compromised app's page may send one to its own
// origin, naming another app, which the identity assertion handed to the
// first app would name (TestAnAssertionNamesTheAppTheProxyNames). Where
// they name two, the check names none. It allocates nothing.
func oneForwardedHost(h http.Header) bool {
	urls, hosts := h["X-Original-Url"], h["X-Forwarded-Host"]
	one := ""
	same := func(host string) bool {
		host = strings.TrimSuffix(hostOnly(strings.TrimSpace(host)), ".")
		if host == "" {
			return true // names none: passed over, never resetting the one named
		}
		if one == "" {
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

// appOf is the app an original request's URL u names, as a forward-auth
// check's assertion is kept by: u up to its path ("https://app.example.com"),
// so that one is signed for an app, not for each of its pages (its images,
// its queries: each would be signed and kept anew); "" for a URL without
// a scheme, which names no app (a page's own header may be one). A
// substring: no allocation.
func appOf(u string) string {
	_, rest, ok := strings.Cut(u, "://")
	if !ok {
		return "" // no scheme: names no app (appHost would read "app2.example.com" as one)
	}
	if end := strings.IndexAny(rest, "/?#"); end >= 0 {
		return u[:len(u)-len(rest)+end]
	}
	return u
}

// ForwardedApp is the app a forward-auth check's proxy names by its
// headers (h, a trusted proxy's: see oneForwardedHost, "" where they name
// two hosts), as appOf keeps it: X-Original-URL's up to its path, else
// X-Forwarded-Proto "://" X-Forwarded-Host. That one is built once per
// proto and host and kept (forwardedApps), so that a check with an
// identity assertion allocates nothing for it.
func ForwardedApp(h http.Header) string {
	if !oneForwardedHost(h) {
		return ""
	}
	if u := first(h, "X-Original-Url"); u != "" {
		return appOf(u)
	}
	host := first(h, "X-Forwarded-Host")
	if host == "" {
		return ""
	}
	proto := cmp.Or(first(h, "X-Forwarded-Proto"), "https")
	if strings.Contains(proto, ":") || strings.ContainsAny(host, "/?#") {
		// A URL whose path appOf would find elsewhere: built as before.
		return appOf(forwardedURL(h, proto, host))
	}
	return forwardedApps.of(proto, host)
}

// OriginalRequest is the URL and method a forward-auth check's proxy asks
// about, from the headers h it sets (a trusted proxy's: the caller checks
// that), where they name one host (oneForwardedHost: a client's own beside
// the proxy's names none); else "" and method, the check's own. Caddy and
// Traefik send X-Forwarded-Method/Proto/Host/Uri; nginx is configured to
// send X-Original-URL and X-Original-Method.
func OriginalRequest(h http.Header, method string) (string, string) {
	if !oneForwardedHost(h) {
		return "", method
	}
	if u := first(h, "X-Original-Url"); u != "" {
		return u, cmp.Or(first(h, "X-Original-Method"), http.MethodGet)
	}
	host := first(h, "X-Forwarded-Host")
	if host == "" {
		return "", cmp.Or(first(h, "X-Forwarded-Method"), method)
	}
	return forwardedURL(h, cmp.Or(first(h, "X-Forwarded-Proto"), "https"), host), cmp.Or(first(h, "X-Forwarded-Method"), http.MethodGet)
}

// forwardedURL is the original request's URL as the X-Forwarded- headers
// h name it: proto "://" host, then X-Forwarded-Uri, after a "/" where it
// has none.
func forwardedURL(h http.Header, proto, host string) string {
	uri := first(h, "X-Forwarded-Uri")
	slash := "/"
	if uri != "" && uri[0] == '/' {
		slash = ""
	}
	return proto + "://" + host + slash + uri
}

// first is the first value of a header given by its canonical name (read
// without Header.Get's canonicalising, which would copy "X-Original-URL").
func first(h http.Header, canonical string) string {
	if v := h[canonical]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// appKey is a proto and host of ForwardedApp.
type appKey struct{ proto, host string }

// appCache is ForwardedApp's apps, each proto "://" host, read without a
// lock: a map written once, swapped whole for one with another app. The
// host is the client's on a catch-all site, so it keeps maxApps at most,
// and builds the others each time (an allocation, as before it); nor a
// host longer than a DNS name (255 bytes) or a proto longer than 16,
// which would pin a client's long header for the process's life.
type appCache struct {
	apps atomic.Pointer[map[appKey]string]
}

const maxApps, maxAppHost, maxAppProto = 256, 255, 16

var forwardedApps appCache

func (c *appCache) of(proto, host string) string {
	if m := c.apps.Load(); m != nil {
		if app, ok := (*m)[appKey{proto, host}]; ok {
			return app
		}
	}
	app := proto + "://" + host
	if len(host) > maxAppHost || len(proto) > maxAppProto {
		return app
	}
	for {
		old := c.apps.Load()
		var m map[appKey]string
		if old != nil {
			if len(*old) >= maxApps {
				return app
			}
			m = maps.Clone(*old)
		} else {
			m = map[appKey]string{}
		}
		// The key's strings are the app's own: none holds a request's headers.
		m[appKey{app[:len(proto)], app[len(proto)+3:]}] = app
		if c.apps.CompareAndSwap(old, &m) {
			return app
		}
	}
}

// maxReturn bounds a login address's escaped return address: nginx reads
// the check's answer headers into one page (proxy_buffer_size, 4 KiB), and
// an X-Smsgate-Login past it answered the client 500 (attack14).
const maxReturn = 2800

// LoginReturn is loginPage returning to original (a forward-auth check's
// request, "" for none): without its query where the whole escapes past
// maxReturn, and to nowhere where its page alone does.
func LoginReturn(loginPage, original string) string {
	if original == "" {
		return loginPage
	}
	rd := url.QueryEscape(original)
	if u, err := url.Parse(original); len(rd) > maxReturn && err == nil {
		u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = "", false, "", ""
		rd = url.QueryEscape(u.String())
	}
	if len(rd) > maxReturn {
		return loginPage
	}
	return loginPage + "?rd=" + rd
}
