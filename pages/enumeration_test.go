package pages_test

// Enumeration: with a login form (identity none), nothing a client can
// see — statuses, headers, cookies and their lengths, bodies — may tell a
// name or number that has an account from one that has none, on a gate
// that texts and on one that requires an app, when the gateway works and
// when it fails.

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/fakes"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

const twoGates = `http://localhost:{HTTP_PORT} {
	handle /admin* {
		smsgate {
			identity none
			user carol +14155552671
			path_prefix /admin/.smsgate/
			require totp
			store badger {DIR}
			provider webhook {HOOK}
		}
		respond "admin {http.auth.user.id}"
	}
	handle {
		smsgate {
			identity none
			user carol +14155552671
			store badger {DIR}
			provider webhook {HOOK}
		}
		respond "Hello, {http.auth.user.id}"
	}
}`

var csrfValue = regexp.MustCompile(`(name="csrf" value=")([^"]*)(")`)

// fingerprint is everything a client sees of an answer, with random values
// (tokens, cookies) replaced by their lengths.
func fingerprint(res *sitetest.Response) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d\n", res.StatusCode)
	names := make([]string, 0, len(res.Header))
	for k := range res.Header {
		if k != "Date" {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	for _, k := range names {
		for _, v := range res.Header[k] {
			if k == "Set-Cookie" {
				name, rest, _ := strings.Cut(v, "=")
				value, attrs, _ := strings.Cut(rest, ";")
				v = fmt.Sprintf("%s=<%d bytes>;%s", name, len(value), attrs)
			}
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	b.WriteString(csrfValue.ReplaceAllStringFunc(res.Text, func(m string) string {
		p := csrfValue.FindStringSubmatch(m)
		return fmt.Sprintf("%s<%d bytes>%s", p[1], len(p[2]), p[3])
	}))
	return b.String()
}

// probe signs in as far as a stranger can with typed at the gate under
// prefix, from its own IP, and returns what it saw at each step.
func probe(t *testing.T, prefix, typed, ip string) []string {
	c := sitetest.NewClient(t, "").From(ip)
	var seen []string
	see := func(res *sitetest.Response) { seen = append(seen, fingerprint(res)) }
	page := c.Get(prefix + "login?rd=%2Fadmin%2Fx")
	see(page)
	tok := sitetest.CSRFField.FindStringSubmatch(page.Text)[1]
	see(c.Post(prefix+"login", url.Values{"username": {typed}, "csrf": {tok}}))
	see(c.Get(prefix + "verify"))
	see(c.Post(prefix+"verify", url.Values{"code": {"000000"}, "csrf": {tok}}))
	see(c.Post(prefix+"verify", url.Values{"action": {"app"}, "code": {"000000"}, "csrf": {tok}}))
	see(c.Post(prefix+"verify", url.Values{"action": {"resend"}, "csrf": {tok}}))
	see(c.Get(prefix + "status"))
	return seen
}

// TestNothingTellsAKnownName compares, byte for byte, what strangers see
// for carol (by name and by number) and for nobody (a name and a number
// of the same lengths), at both gates, with the gateway up and down.
func TestNothingTellsAKnownName(t *testing.T) {
	sitetest.Parallel(t)
	hook := fakes.NewHook(t)
	s := sitetest.StartWith(t, sitetest.TrustedProxies, strings.ReplaceAll(twoGates, "{HOOK}", hook.URL))
	ip := 0
	for _, outage := range []bool{false, true} {
		if outage {
			hook.Status = http.StatusInternalServerError
		}
		for _, prefix := range []string{"/.smsgate/", "/admin/.smsgate/"} {
			for _, pair := range [][2]string{{"carol", "zelda"}, {"+14155552671", "+14155552673"}} {
				s.Advance(2 * time.Minute) // past the cooldowns of the last round
				ip++
				known := probe(t, prefix, pair[0], fmt.Sprintf("198.51.100.%d", ip))
				ip++
				unknown := probe(t, prefix, pair[1], fmt.Sprintf("198.51.100.%d", ip))
				for i := range known {
					if known[i] != unknown[i] {
						t.Fatalf("outage %v, %s, %q vs %q, step %d:\n--- known\n%s\n--- unknown\n%s", outage, prefix, pair[0], pair[1], i, known[i], unknown[i])
					}
				}
			}
		}
	}
	if len(hook.Requests()) == 0 {
		t.Fatal("no code was ever sent: the comparison proved nothing")
	}
}

// TestNamingAtARequireGateCounts: naming users at a gate that sends no
// texts counts toward the client IP's limit (20 an hour), as it does at a
// gate that texts.
func TestNamingAtARequireGateCounts(t *testing.T) {
	sitetest.Parallel(t)
	hook := fakes.NewHook(t)
	sitetest.StartWith(t, sitetest.TrustedProxies, strings.ReplaceAll(twoGates, "{HOOK}", hook.URL))
	c := sitetest.NewClient(t, "").From("203.0.113.9")
	tok := c.CSRF("/admin/.smsgate/login")
	for i := range 20 {
		sitetest.Expect(t, c.Post("/admin/.smsgate/login", url.Values{"username": {fmt.Sprint("user", i)}, "csrf": {tok}}), http.StatusSeeOther, "/admin/.smsgate/verify")
	}
	res := c.Post("/admin/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}})
	sitetest.Expect(t, res, http.StatusTooManyRequests, "")
	if res.Header.Get("Retry-After") == "" {
		t.Fatal("no Retry-After")
	}
}

// TestLongReturnTargetsKeepTheFlow: a return target so long that the
// flow cookie would pass browsers' 4096 bytes (and be dropped, and the
// sign-in with it) is given up instead: the cookie fits, the sign-in works
// and lands on "/".
func TestLongReturnTargetsKeepTheFlow(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Carol(t, "")
	c := sitetest.NewClient(t, "")
	page := c.Get("/.smsgate/login?rd=" + url.QueryEscape("/report?q="+strings.Repeat("x", 2000)))
	tok := sitetest.CSRFField.FindStringSubmatch(page.Text)[1]
	res := c.Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}})
	sitetest.Expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
	for _, h := range res.Header.Values("Set-Cookie") {
		if len(h) > 4096 {
			t.Fatalf("a Set-Cookie of %d bytes: browsers drop it", len(h))
		}
	}
	sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")
}
