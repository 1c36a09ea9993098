package pages

import (
	"cmp"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestAppOf: an original request's URL up to its path, with no allocation.
func TestAppOf(t *testing.T) {
	for u, want := range map[string]string{
		"https://app.example.com/x/y?z":  "https://app.example.com",
		"https://app.example.com:8443?q": "https://app.example.com:8443",
		"https://app.example.com#f":      "https://app.example.com",
		"https://app.example.com":        "https://app.example.com",
		"app.example.com/x":              "", // no scheme: no app (appHost would read its host)
		"app2.example.com:8443":          "",
		"":                               "",
	} {
		if got := appOf(u); got != want {
			t.Errorf("appOf(%q) = %q, want %q", u, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { appOf("https://app.example.com/x") }); n != 0 {
		t.Errorf("appOf allocates %v times", n)
	}
}

// TestOneForwardedHost: a proxy's headers naming two hosts (a client's
// own beside the proxy's) are believed for none.
func TestOneForwardedHost(t *testing.T) {
	for _, c := range []struct {
		urls, hosts []string
		one         bool
	}{
		{nil, nil, true},
		{nil, []string{"app1.example.com"}, true},
		{[]string{"https://app1.example.com/x"}, nil, true},
		{[]string{"https://App1.example.com:443/x"}, []string{"app1.example.com."}, true},
		{[]string{"https://user@app1.example.com/"}, []string{"app1.example.com:8443"}, true},
		{[]string{"/x"}, []string{"app1.example.com"}, true},
		{[]string{"https://app2.example.com/"}, []string{"app1.example.com"}, false},
		{[]string{"https://app1.example.com/", "https://app2.example.com/"}, nil, false},
		{nil, []string{"app1.example.com, app2.example.com"}, false},
		{nil, []string{"app1.example.com", "app2.example.com"}, false},
		{[]string{"https://[::1]:8443/"}, []string{"[::1]"}, true},
		// A value naming no host never resets the one named before it.
		{[]string{"https://app2.example.com/", "x"}, []string{"app1.example.com"}, false},
		{[]string{"https://app2.example.com/", "https:///"}, []string{"app1.example.com"}, false},
		{[]string{"https://app2.example.com/", "//app1.example.com/"}, []string{"app1.example.com"}, false},
		{nil, []string{"app2.example.com, , app1.example.com"}, false},
	} {
		h := http.Header{"X-Original-Url": c.urls, "X-Forwarded-Host": c.hosts}
		if got := oneForwardedHost(h); got != c.one {
			t.Errorf("oneForwardedHost(%v, %v) = %v, want %v", c.urls, c.hosts, got, c.one)
		}
	}
	h := http.Header{"X-Original-Url": {"https://app1.example.com/x"}, "X-Forwarded-Host": {"app1.example.com"}}
	if n := testing.AllocsPerRun(100, func() { oneForwardedHost(h) }); n != 0 {
		t.Errorf("oneForwardedHost allocates %v times", n)
	}
}

// builtApp is the app as the forward-auth check found it before
// ForwardedApp: the original URL built from the proxy's headers, then
// appOf (pages.OriginalRequest, which caddymodule's check calls for a trusted proxy).
func builtApp(h http.Header) string {
	if !oneForwardedHost(h) {
		return ""
	}
	if u := first(h, "X-Original-Url"); u != "" {
		return appOf(u)
	}
	host, uri := first(h, "X-Forwarded-Host"), first(h, "X-Forwarded-Uri")
	if host == "" {
		return ""
	}
	slash := "/"
	if uri != "" && uri[0] == '/' {
		slash = ""
	}
	return appOf(cmp.Or(first(h, "X-Forwarded-Proto"), "https") + "://" + host + slash + uri)
}

// TestForwardedApp: the app the proxy's headers name is the one the
// original URL built from them named (builtApp), odd headers too, and a
// check asks no allocation for it; past maxApps apps, they are built
// each time, and still right.
func TestForwardedApp(t *testing.T) {
	var cases []http.Header
	for _, url := range []string{"", "https://app1.example.com/x", "https://app2.example.com/"} {
		for _, host := range []string{"", "app1.example.com", "App1.example.com:8443", "app1.example.com/evil", "app1.example.com?q", "[::1]:8443", "a.example, a.example"} {
			for _, proto := range []string{"", "http", "https", "x:", "a://b"} {
				for _, uri := range []string{"", "/", "/x/y?z", "x", "//x", "?q", "#f"} {
					h := http.Header{}
					for name, v := range map[string]string{"X-Original-Url": url, "X-Forwarded-Host": host, "X-Forwarded-Proto": proto, "X-Forwarded-Uri": uri} {
						if v != "" {
							h[name] = []string{v}
						}
					}
					cases = append(cases, h)
				}
			}
		}
	}
	for range 2 { // made, then kept
		for _, h := range cases {
			if got, want := ForwardedApp(h), builtApp(h); got != want {
				t.Errorf("ForwardedApp(%v) = %q, want %q", h, got, want)
			}
			if u, _ := OriginalRequest(h, http.MethodGet); appOf(u) != builtApp(h) {
				t.Errorf("OriginalRequest(%v) = %q, of app %q; want app %q", h, u, appOf(u), builtApp(h))
			}
		}
	}
	h := http.Header{"X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"app.example.com"}, "X-Forwarded-Uri": {"/dashboard/42?tab=activity"}}
	if n := testing.AllocsPerRun(100, func() { ForwardedApp(h) }); n != 0 {
		t.Errorf("ForwardedApp allocates %v times", n)
	}
	for i := range maxApps + 10 {
		h := http.Header{"X-Forwarded-Host": {fmt.Sprintf("app%d.example.com", i)}}
		if got, want := ForwardedApp(h), fmt.Sprintf("https://app%d.example.com", i); got != want {
			t.Fatalf("ForwardedApp(%v) = %q, want %q", h, got, want)
		}
	}
	if n := len(*forwardedApps.apps.Load()); n != maxApps {
		t.Errorf("%d apps kept, want %d", n, maxApps)
	}
	if n := testing.AllocsPerRun(100, func() { ForwardedApp(h) }); n != 0 {
		t.Errorf("ForwardedApp of a kept app allocates %v times once full", n)
	}
}

// BenchmarkForwardedApp: a forward-auth check's app, from Caddy's
// forward_auth headers, built each time (before) and kept (after).
//
//	go test ./pages -run '^$' -bench ForwardedApp -benchmem -count 5
func BenchmarkForwardedApp(b *testing.B) {
	h := http.Header{"X-Forwarded-Method": {"GET"}, "X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"app.localhost"},
		"X-Forwarded-Uri": {"/dashboard/42?tab=activity"}, "X-Forwarded-For": {"127.0.0.1"}}
	for _, c := range []struct {
		name string
		app  func(http.Header) string
	}{{"built", builtApp}, {"kept", ForwardedApp}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if c.app(h) != "https://app.localhost" {
					b.Fatal(c.app(h))
				}
			}
		})
	}
}

// TestTheAppCacheKeepsNoLongHost: a client's host (or proto) longer than
// a DNS name is answered but not kept (before: a 64 KiB host kept for the
// process's life, 256 of them 18 MiB); one of 255 bytes is kept.
func TestTheAppCacheKeepsNoLongHost(t *testing.T) {
	var c appCache
	kept := func() int {
		if m := c.apps.Load(); m != nil {
			return len(*m)
		}
		return 0
	}
	long := strings.Repeat("a", 256)
	for _, k := range []appKey{{"https", long}, {strings.Repeat("h", 17), "app.example.com"}, {"https", strings.Repeat("b", 64<<10)}} {
		if got := c.of(k.proto, k.host); got != k.proto+"://"+k.host {
			t.Fatalf("of(%.20q, %.20q) = %.40q", k.proto, k.host, got)
		}
	}
	if n := kept(); n != 0 {
		t.Errorf("%d long apps kept", n)
	}
	if got := c.of("https", long[:255]); got != "https://"+long[:255] || kept() != 1 {
		t.Errorf("a 255-byte host: %.40q, %d kept", got, kept())
	}
}
