package pages

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzSafeRedirect: whatever rd is, the result is empty, a path on this
// site, or an https URL on an allowed host — never somewhere else.
func FuzzSafeRedirect(f *testing.F) {
	for _, s := range []string{"/", "//evil.example", "/\\evil.example", "https:evil.example", "https://app.example.com/x",
		"javascript:alert(1)", "/%2F%2Fevil.example", "/\t/evil", "https://app.example.com@evil.example/", "https://evil.example#@app.example.com",
		"/。evil.example", "https://APP.EXAMPLE.COM./", "https://x.corp.example:8443/"} {
		f.Add(s)
	}
	hosts := []string{"app.example.com", "*.corp.example"}
	f.Fuzz(func(t *testing.T, rd string) {
		got := safeRedirect(rd, hosts)
		if got == "" {
			return
		}
		if got != rd {
			t.Fatalf("safeRedirect(%q) rewrote it to %q", rd, got)
		}
		for _, c := range got {
			if c < 0x21 || c == 0x7f || c == '\\' {
				t.Fatalf("safeRedirect(%q) kept a control character or backslash", rd)
			}
		}
		u, err := url.Parse(got)
		if err != nil {
			t.Fatalf("safeRedirect(%q) returned an unparsable URL", rd)
		}
		if strings.HasPrefix(got, "/") {
			if strings.HasPrefix(got, "//") || u.Host != "" || u.Scheme != "" {
				t.Fatalf("safeRedirect(%q) leaves the site", rd)
			}
			return
		}
		if (u.Scheme != "https" && u.Scheme != "http") || !hostAllowed(u, hosts) || u.User != nil {
			t.Fatalf("safeRedirect(%q) allows %s", rd, u.Host)
		}
	})
}
