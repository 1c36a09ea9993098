package siteblock

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
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

func caddyMatches(t *testing.T, pattern, path string) bool {
	raw, _ := json.Marshal([]string{pattern})
	var m caddyhttp.MatchPath
	if err := json.Unmarshal(raw, &m); err != nil || m.Provision(caddy.Context{}) != nil {
		t.Fatal(pattern)
	}
	r, _ := http.NewRequest(http.MethodGet, path, nil)
	r = r.WithContext(context.WithValue(r.Context(), caddy.ReplacerCtxKey, caddy.NewReplacer()))
	ok, err := m.MatchWithError(r)
	return ok && err == nil
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
