package pages

import (
	"net/http"
	"testing"
)

// TestAppOf: an original request's URL up to its path, with no allocation.
func TestAppOf(t *testing.T) {
	for u, want := range map[string]string{
		"https://app.example.com/x/y?z":  "https://app.example.com",
		"https://app.example.com:8443?q": "https://app.example.com:8443",
		"https://app.example.com#f":      "https://app.example.com",
		"https://app.example.com":        "https://app.example.com",
		"app.example.com/x":              "app.example.com/x",
		"":                               "",
	} {
		if got := AppOf(u); got != want {
			t.Errorf("AppOf(%q) = %q, want %q", u, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { AppOf("https://app.example.com/x") }); n != 0 {
		t.Errorf("AppOf allocates %v times", n)
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
	} {
		h := http.Header{"X-Original-Url": c.urls, "X-Forwarded-Host": c.hosts}
		if got := OneForwardedHost(h); got != c.one {
			t.Errorf("OneForwardedHost(%v, %v) = %v, want %v", c.urls, c.hosts, got, c.one)
		}
	}
	h := http.Header{"X-Original-Url": {"https://app1.example.com/x"}, "X-Forwarded-Host": {"app1.example.com"}}
	if n := testing.AllocsPerRun(100, func() { OneForwardedHost(h) }); n != 0 {
		t.Errorf("OneForwardedHost allocates %v times", n)
	}
}
