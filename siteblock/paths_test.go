package siteblock

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// TestPatternsApartAsCaddyMatches: two path patterns are apart only where
// Caddy's own path matcher matches none of a set of paths by both, and
// patterns that meet (or may: in doubt) are not.
func TestPatternsApartAsCaddyMatches(t *testing.T) {
	for _, tc := range []struct {
		a, b  string
		apart bool
	}{
		{"/admin/*", "/public/*", true},
		{"/admin/*", "/admin", true},
		{"/admin/*", "/admins/*", true},
		{"/admin/*", "/ADMIN/*", false},
		{"/admin/*", "/Admin/X", false},
		{"/admin/*", "/*", false},
		{"/admin/*", "*", false},
		{"/admin/*", "*.php", false},
		{"/admin/*", "/admin/.smsgate/*", false},
		{"/admin*", "/admins/*", false},
		{"/admin/*.php", "*.html", true},
		{"/admin/*", "/{env.X}/*", false},
		{"/admin/*", "/public/%2e*", false},
		{"/admin/*", "/pub?ic/*", false},
		{"/admin/*", "//public/*", false},
		{"/a", "/b", true},
		{"/a", "/A", false},
	} {
		if got := patternsApart(tc.a, tc.b); got != tc.apart {
			t.Errorf("patternsApart(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.apart)
		}
		if !tc.apart {
			continue
		}
		for _, p := range []string{"/", "/admin", "/admin/", "/admin/x", "/ADMIN/x.php", "/admins/x", "/public/x", "/admin/x.html", "/a", "/b", "/A"} {
			if caddyMatches(t, tc.a, p) && caddyMatches(t, tc.b, p) {
				t.Errorf("%q and %q are apart, but Caddy matches %s by both", tc.a, tc.b, p)
			}
		}
	}
}

// caddyMatches reports whether Caddy's path matcher of pattern, as Caddy
// loads it from JSON, takes a GET whose request line names target (as
// sent: escaped), read as Caddy's server reads it (net/http).
func caddyMatches(t *testing.T, pattern, target string) bool {
	t.Helper()
	raw, _ := json.Marshal([]string{pattern})
	var m caddyhttp.MatchPath
	if err := json.Unmarshal(raw, &m); err != nil || m.Provision(caddy.Context{}) != nil {
		t.Fatal(pattern)
	}
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader("GET " + target + " HTTP/1.1\r\nHost: localhost\r\n\r\n")))
	if err != nil {
		t.Fatal(target, err)
	}
	r = r.WithContext(context.WithValue(r.Context(), caddy.ReplacerCtxKey, caddy.NewReplacer()))
	ok, err := m.MatchWithError(r)
	return ok && err == nil
}

// TestPathsMatchAsCaddyMatches: matchesPath (the gate's login page, "/")
// and patternsApart (an exact path beside a pattern) answer as Caddy's
// path matcher does for a request whose path is that path (decoded, as
// the gate compares its path_prefix): patterns with a * in the middle, a
// suffix, a prefix, a substring, exact, in another case, with %-escapes
// (which Caddy compares in escaped space) and doubled slashes.
func TestPathsMatchAsCaddyMatches(t *testing.T) {
	patterns := []string{
		"/admin/*", "/ADMIN/*", "/admin*", "*.php", "*/login", "*smsgate*", "/a/*/c", "/a/*/c/*", "/admin/*.php", "/.smsgate/*",
		"/admin", "/Admin/X", "/.smsgate/login", "*", "/*", "/a%2fb/*", "/a%2Fb/login", "/%2esmsgate/*", "/a/%*/c", "//x/*", "/a b/*",
	}
	paths := []string{
		"/", "/admin", "/admin/", "/admin/x", "/ADMIN/X", "/admins/x", "/admin/x.php", "/x.PHP", "/a/b/c", "/a/b/b/c", "/a/b/c/d",
		"/.smsgate/login", "/.SMSGATE/LOGIN", "/auth/login", "/a/b/login", "/a%2fb/login", "/a%2Fb/login", "/%2esmsgate/login",
		"/a b/login", "/a%20b/login", "//x/y", "/x/y",
	}
	for _, pattern := range patterns {
		raw, _ := json.Marshal([]string{pattern})
		for _, p := range paths {
			want := caddyMatches(t, pattern, (&url.URL{Path: p}).EscapedPath())
			if got := matchesPath(caddy.ModuleMap{"path": raw}, p); got == maybe || (got == yes) != want {
				t.Errorf("matchesPath(%q, %q) = %v; Caddy matches: %v", pattern, p, got, want)
			}
			inDoubt := strings.ContainsAny(pattern+p, "{%?[\\") || strings.Contains(pattern+p, "//")
			if apart := patternsApart(p, pattern); apart && want || !apart && !want && !inDoubt {
				t.Errorf("patternsApart(%q, %q) = %v; Caddy matches %q by %q: %v", p, pattern, apart, p, pattern, want)
			}
		}
	}
}

// TestAddressPathsAreTheSitesPaths: a site address's path is a path the
// gate's requests have; an address without one takes every path.
func TestAddressPathsAreTheSitesPaths(t *testing.T) {
	for _, tc := range []struct {
		keys []string
		want []string
	}{
		{[]string{"example.com/admin/*"}, []string{"/admin/*"}},
		{[]string{"http://localhost:8080/admin/*", "localhost/ops"}, []string{"/admin/*", "/ops"}},
		{[]string{"example.com/admin/*", "example.com"}, nil},
		{[]string{":80"}, nil},
		{nil, nil},
	} {
		if got := (&Block{keys: tc.keys}).addressPaths(); !slices.Equal(got, tc.want) {
			t.Errorf("%q: %q, want %q", tc.keys, got, tc.want)
		}
	}
}
