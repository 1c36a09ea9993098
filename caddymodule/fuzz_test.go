package caddymodule

import (
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/pages"
)

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
				if name, _, _ := strings.Cut(part, "="); part != "" && name != pages.SessionCookie && name != pages.FlowCookie {
					want = append(want, part)
				}
			}
		}
		stripCookies(r, pages.SessionCookie, pages.FlowCookie)
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
			if c.Name == pages.SessionCookie || c.Name == pages.FlowCookie {
				t.Fatalf("Cookie %q kept %s", header, c.Name)
			}
		}
		for _, part := range strings.Split(r.Header.Get("Cookie"), ";") {
			if name, _, _ := strings.Cut(strings.TrimSpace(part), "="); name == pages.SessionCookie || name == pages.FlowCookie {
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
		c, err := r.Cookie(pages.SessionCookie)
		if err == nil && cookieValue(r, pages.SessionCookie) != c.Value {
			t.Fatalf("Cookie %q: net/http finds %q, cookieValue %q", header, c.Value, cookieValue(r, pages.SessionCookie))
		}
	})
}
