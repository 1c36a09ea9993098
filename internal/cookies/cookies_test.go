package cookies

import (
	"net/http"
	"net/textproto"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The gate's cookies, as the pages name them.
const sessionCookie = "smsgate_session"

// A realm of its own adds its tag to the session's and known browser's
// names (pages.GateCookies): "_" and 12 lowercase hex digits.
var gateCookies = []string{sessionCookie + "#", "smsgate_flow", "smsgate_known#", "smsgate_trust"}

// realmTagged matches a name with a realm's tag, written apart from Found.Strip's.
var realmTagged = regexp.MustCompile(`^(smsgate_session|smsgate_known)_[0-9a-f]{12}$`)

// gateCookie is gateCookies' reading, written apart from Found.Strip's.
func gateCookie(name string) bool {
	return realmTagged.MatchString(name) || slices.Contains([]string{sessionCookie, "smsgate_known", "smsgate_flow", "smsgate_trust"}, name)
}

// FuzzStripCookies: none of the gate's cookies survives, whatever the
// Cookie headers look like (each line of the input is one header), as
// net/http reads them or as a parser that trims names (Node's cookie)
// does; and nothing else is dropped or changed. Stripping after
// FindFirst (which skips the part it found) leaves exactly the same lines
// as stripping from nothing found.
func FuzzStripCookies(f *testing.F) {
	for _, s := range []string{"a=1; smsgate_session=x; b=2", "smsgate_session=x", ";;;", "smsgate_session", "a=1;smsgate_flow=y;smsgate_session=z", "smsgate_session=a=b; c",
		"smsgate_session =x; a=1", "a=1\nsmsgate_trust=t; smsgate_known=k\nb=2", "\tsmsgate_flow\t=f;a=1; smsgate_session=s", "a=1; smsgate_known=k; b=2; smsgate_trust=t; c=3",
		"smsgate_session_3f2a=x; a=1; smsgate_known_3f2a=k; smsgate_flowx=2", "a=1; smsgate_sessio=2; smsgate_trust_x=3",
		"smsgate_session_3f2a0b1c4d5e=x; smsgate_session_extra=1; smsgate_sessions_pref=2; smsgate_known_0123456789ab=k",
		"smsgate_session_3F2A0B1C4D5E=u; smsgate_known_0123456789abc=l; smsgate_session_=e; smsgate_known_01234567890g=g"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		r, _ := http.NewRequest(http.MethodGet, "http://localhost/", nil)
		for line := range strings.SplitSeq(header, "\n") {
			r.Header.Add("Cookie", line)
		}
		// What must remain: every other non-empty part, in order.
		var want []string
		for _, line := range r.Header.Values("Cookie") {
			for part := range strings.SplitSeq(line, ";") {
				part = textproto.TrimString(part)
				if name, _, _ := strings.Cut(part, "="); part != "" && !gateCookie(textproto.TrimString(name)) {
					want = append(want, part)
				}
			}
		}
		found := r.Clone(r.Context())
		Found{}.Strip(r.Header, gateCookies...)
		first, _ := FindFirst(found.Header, []string{sessionCookie + "_3f2a0b1c4d5e", sessionCookie})
		first.Strip(found.Header, gateCookies...)
		if a, b := r.Header["Cookie"], found.Header["Cookie"]; !slices.Equal(a, b) || (a == nil) != (b == nil) {
			t.Fatalf("Cookie %q: Strip kept %q, FindFirst then Strip %q", header, a, b)
		}
		var got []string
		for _, line := range r.Header.Values("Cookie") {
			if line == "" {
				t.Fatalf("Cookie %q: an empty line kept", header)
			}
			for part := range strings.SplitSeq(line, ";") {
				if part = textproto.TrimString(part); part != "" {
					got = append(got, part)
				}
			}
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("Cookie %q: kept %q, want %q", header, got, want)
		}
		for _, c := range r.Cookies() {
			if gateCookie(c.Name) {
				t.Fatalf("Cookie %q kept %s (net/http)", header, c.Name)
			}
		}
		for _, line := range r.Header.Values("Cookie") {
			for part := range strings.SplitSeq(line, ";") {
				// Node's cookie module trims names of spaces and tabs.
				if name, _, _ := strings.Cut(part, "="); gateCookie(strings.Trim(name, " \t")) {
					t.Fatalf("Cookie %q kept %s", header, name)
				}
			}
		}
	})
}

// FuzzCookieValue: the fast cookie lookup finds the first part that
// net/http names so, and its value as net/http reads it; so whenever that
// value is one net/http accepts, the two agree.
func FuzzCookieValue(f *testing.F) {
	for _, s := range []string{"smsgate_session=abc", "a=1; smsgate_session=x.y.z; b=2", `smsgate_session="q"`, "smsgate_session=", "xsmsgate_session=1", "a=1;;smsgate_session=2",
		`smsgate_session=a\b; smsgate_session=c`, "smsgate_session =a; smsgate_session=c", "smsgate_session= a b ;c", "a=smsgate_session=1; smsgate_session2=2; smsgate_session", `smsgate_session="`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		r, _ := http.NewRequest(http.MethodGet, "http://localhost/", nil)
		r.Header.Set("Cookie", header)
		// The reference: net/http's reading, less its check of the value.
		want, found := "", false
		for part := range strings.SplitSeq(header, ";") {
			name, v, _ := strings.Cut(textproto.TrimString(part), "=")
			if textproto.TrimString(name) == sessionCookie {
				if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
					v = v[1 : len(v)-1]
				}
				want, found = v, true
				break
			}
		}
		first, at := FindFirst(r.Header, []string{sessionCookie})
		got := first.Value
		if got != want || (at == 0) != (want != "") {
			t.Fatalf("Cookie %q: FindFirst %q (%d), want %q", header, got, at, want)
		}
		c, err := r.Cookie(sessionCookie)
		if found && strings.Count(header, ";") < 3000 && !strings.ContainsFunc(want, func(c rune) bool { return c < 0x20 || c >= 0x7f || c == '"' || c == ';' || c == '\\' }) {
			if err != nil || c.Value != got {
				t.Fatalf("Cookie %q: net/http finds %v %v, FindFirst %q", header, c, err, got)
			}
		}
	})
}

// BenchmarkAdmitCookies is what an admitted request does with its Cookie
// header: the session's value found, then the gate's cookies taken off,
// for a browser's header (the session and another cookie) and the session
// alone (the header deleted); "separate" looks the header up and reads
// the token again to strip, "found" strips from where FindFirst found it.
//
//	go test ./internal/cookies -run '^$' -bench AdmitCookies
func BenchmarkAdmitCookies(b *testing.B) {
	token := strings.Repeat("eyJhbGciOiJIUzI1NiJ9", 15) // a session token's length
	session := []string{sessionCookie}
	for _, shape := range []struct{ name, header string }{
		{"browser", sessionCookie + "=" + token + "; theme=dark"},
		{"session-only", sessionCookie + "=" + token},
	} {
		for _, way := range []struct {
			name string
			take func(http.Header) string
		}{
			{"separate", func(h http.Header) string {
				f, _ := FindFirst(h, session)
				Found{}.Strip(h, gateCookies...)
				return f.Value
			}},
			{"found", func(h http.Header) string { f, _ := FindFirst(h, session); f.Strip(h, gateCookies...); return f.Value }},
		} {
			b.Run(shape.name+"/"+way.name, func(b *testing.B) {
				headers := make([]http.Header, 1024)
				fill := func() {
					for i := range headers {
						headers[i] = http.Header{"Cookie": {shape.header}}
					}
				}
				fill()
				n := 0
				for b.Loop() {
					if n == len(headers) {
						b.StopTimer()
						fill()
						n = 0
						b.StartTimer()
					}
					if way.take(headers[n]) != token {
						b.Fatal("no token")
					}
					n++
				}
			})
		}
	}
}

// FuzzFindFirst: one pass for several names finds what the reference
// Find (export_test.go, written another way) finds asking for each in
// turn (the first with a value), at the same place, so that Strip after
// it drops the same part.
func FuzzFindFirst(f *testing.F) {
	for _, s := range []string{"smsgate_session=a; __Host-smsgate_session=b", "__Host-smsgate_session=; smsgate_session=x; __Host-smsgate_session=y",
		"smsgate_session_3f2a00000000=o\nsmsgate_session=s", "smsgate_session; smsgate_session=late", "a=1; __Host-smsgate_session_3f2a00000000 = \"q\" ; b",
		"smsgate_session=\"\"; __Host-smsgate_session=z", "x=smsgate_session=1; smsgate_session =2", ";;", "smsgate_session_3f2a00000000"} {
		f.Add(s)
	}
	names := []string{"__Host-smsgate_session_3f2a00000000", "smsgate_session_3f2a00000000", "__Host-smsgate_session", "smsgate_session"}
	f.Fuzz(func(t *testing.T, header string) {
		h := http.Header{}
		for line := range strings.SplitSeq(header, "\n") {
			h.Add("Cookie", line)
		}
		for n := 1; n <= len(names); n++ {
			want, wantAt := Found{}, -1
			for k, name := range names[:n] {
				if want = Find(h, name); want.Value != "" {
					wantAt = k
					break
				}
			}
			got, at := FindFirst(h, names[:n])
			if at != wantAt || got.Value != want.Value || want.Value != "" && (got.line != want.line || got.from != want.from || got.to != want.to) {
				t.Fatalf("Cookie %q, names %q: FindFirst %d %+v, Find in turn %d %+v", header, names[:n], at, got, wantAt, want)
			}
			if at >= 0 {
				a, b := h.Clone(), h.Clone()
				Find(a, names[at]).Strip(a, names...)
				f, _ := FindFirst(b, names[:n])
				f.Strip(b, names...)
				if !slices.Equal(a["Cookie"], b["Cookie"]) {
					t.Fatalf("Cookie %q: stripped after Find %q, after FindFirst %q", header, a["Cookie"], b["Cookie"])
				}
			}
		}
	})
}

// BenchmarkFindSession is a gate's look for its session cookie under its
// names, "in-turn" (Find for each name, as before) and "one-pass"
// (FindFirst): a realm of its own (four names: its own prefixed and not,
// then the shared ones) finding its cookie over HTTPS (the first name),
// at loopback (the second), and a release before's under the shared name
// (the last); the default realm (two names) at loopback (the second).
// Each header has another cookie after the session's.
//
//	go test ./internal/cookies -run '^$' -bench FindSession -benchmem
func BenchmarkFindSession(b *testing.B) {
	token := strings.Repeat("eyJhbGciOiJIUzI1NiJ9", 15)
	own := []string{"__Host-smsgate_session_3f2a0b1c4d5e", "smsgate_session_3f2a0b1c4d5e", "__Host-smsgate_session", "smsgate_session"}
	for _, c := range []struct {
		name  string
		names []string
		at    int
	}{{"own-realm/https", own, 0}, {"own-realm/loopback", own, 1}, {"own-realm/shared-name", own, 3}, {"default-realm/loopback", own[2:], 1}} {
		h := http.Header{"Cookie": {c.names[c.at] + "=" + token + "; theme=dark"}}
		for _, way := range []struct {
			name string
			find func() (Found, int)
		}{
			{"in-turn", func() (Found, int) {
				for k, name := range c.names {
					if f := Find(h, name); f.Value != "" {
						return f, k
					}
				}
				return Found{}, -1
			}},
			{"one-pass", func() (Found, int) { return FindFirst(h, c.names) }},
		} {
			b.Run(c.name+"/"+way.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if f, k := way.find(); k != c.at || f.Value != token {
						b.Fatal("not found")
					}
				}
			})
		}
	}
}

// BenchmarkStripOthers is Strip (from nothing found) on a header of other cookies only (an
// admitted request's, past its session's part): each name compared with
// the gate's.
//
//	go test ./internal/cookies -run '^$' -bench StripOthers -benchmem
func BenchmarkStripOthers(b *testing.B) {
	line := "theme=dark; lang=en; _ga=GA1.2.345678.901234; csrftoken=abcdef0123456789; sessionid=xyz"
	h := http.Header{"Cookie": {line}}
	b.ReportAllocs()
	for b.Loop() {
		Found{}.Strip(h, gateCookies...)
	}
	if h["Cookie"][0] != line {
		b.Fatal("changed")
	}
}
