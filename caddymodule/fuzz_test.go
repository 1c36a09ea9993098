package caddymodule

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
		if (u.Scheme != "https" && u.Scheme != "http") || !hostAllowed(u.Hostname(), hosts) || u.User != nil {
			t.Fatalf("safeRedirect(%q) allows %s", rd, u.Host)
		}
	})
}

// FuzzStripCookies: the session and flow cookies never survive, whatever
// the Cookie header looks like, and nothing else is dropped.
func FuzzStripCookies(f *testing.F) {
	for _, s := range []string{"a=1; smsgate_session=x; b=2", "smsgate_session=x", ";;;", "smsgate_session", "a=1;smsgate_flow=y;smsgate_session=z", "smsgate_session=a=b; c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		r, _ := newRequestWithCookie(header)
		// What must remain: every other non-empty part, in order.
		var want []string
		for _, line := range r.Header.Values("Cookie") {
			for part := range strings.SplitSeq(line, ";") {
				part = strings.Trim(part, " \t")
				if name, _, _ := strings.Cut(part, "="); part != "" && name != SessionCookie && name != FlowCookie {
					want = append(want, part)
				}
			}
		}
		stripCookies(r, SessionCookie, FlowCookie)
		var got []string
		for _, line := range r.Header.Values("Cookie") {
			for part := range strings.SplitSeq(line, ";") {
				if part = strings.Trim(part, " \t"); part != "" {
					got = append(got, part)
				}
			}
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("Cookie %q: kept %q, want %q", header, got, want)
		}
		for _, c := range r.Cookies() {
			if c.Name == SessionCookie || c.Name == FlowCookie {
				t.Fatalf("Cookie %q kept %s", header, c.Name)
			}
		}
		for _, part := range strings.Split(r.Header.Get("Cookie"), ";") {
			if name, _, _ := strings.Cut(strings.TrimSpace(part), "="); name == SessionCookie || name == FlowCookie {
				t.Fatalf("Cookie %q kept %s", header, name)
			}
		}
	})
}

// FuzzCookieValue: the fast cookie lookup finds what net/http finds.
func FuzzCookieValue(f *testing.F) {
	for _, s := range []string{"smsgate_session=abc", "a=1; smsgate_session=x.y.z; b=2", `smsgate_session="q"`, "smsgate_session=", "xsmsgate_session=1", "a=1;;smsgate_session=2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		r, _ := newRequestWithCookie(header)
		c, err := r.Cookie(SessionCookie)
		if err == nil && cookieValue(r, SessionCookie) != c.Value {
			t.Fatalf("Cookie %q: net/http finds %q, cookieValue %q", header, c.Value, cookieValue(r, SessionCookie))
		}
	})
}
