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
	"strconv"
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

// waits are the seconds an answer counts down (until a code may be sent
// again): as the page's button, hint and error, its JSON, its Retry-After.
// The error ("Please wait 28 seconds before…") counts down too: left in
// the fingerprint, it failed the test on a machine running two copies of
// the suite, where the known name's probe reached it two seconds later
// than the unknown one's (28 against 30; TestFingerprintHidesEveryCountdown).
var waits = regexp.MustCompile(`(data-resend-in="|new code in |"resend_in":|Retry-After: |Please wait )(\d+)`)

// A seen is what a client saw of one answer: its fingerprint, and the
// waits it counted down (in the fingerprint as <s>), with how long the
// probe had run when it came (see consistent).
type seen struct {
	print   string
	waits   []int
	elapsed time.Duration
}

// consistent reports whether the waits of a and b (two answers whose
// fingerprints are equal) can come from the same gate for both, with the
// same cooldowns. A wait counts down in real time from a moment within its
// probe: a wait of w s shown e into the probe is ceil(c - x) of a cooldown
// c, for some x in [0, e], so c is within [w, w+e]. The two answers are
// consistent when those ranges meet for every wait. On an idle machine e
// is a few hundredths of a second and a cooldown longer by one second for
// one name than the other fails; on a machine running two copies of the
// suite the known name's probe once ran over a second longer than the
// unknown one's, and its button said 29 where the other's said 30.
func consistent(a, b seen) bool {
	for i := range a.waits {
		lo := max(float64(a.waits[i]), float64(b.waits[i]))
		hi := min(float64(a.waits[i])+a.elapsed.Seconds(), float64(b.waits[i])+b.elapsed.Seconds())
		if lo > hi {
			return false
		}
	}
	return true
}

// fingerprint is everything a client sees of an answer, with random values
// (tokens, cookies) replaced by their lengths, and the waits it counts
// down by <s> (returned in order).
func fingerprint(res *sitetest.Response) (string, []int) {
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
	var ws []int
	fp := waits.ReplaceAllStringFunc(b.String(), func(m string) string {
		p := waits.FindStringSubmatch(m)
		n, _ := strconv.Atoi(p[2])
		ws = append(ws, n)
		return p[1] + "<s>"
	})
	return fp, ws
}

// probe signs in as far as a stranger can with typed at the gate under
// prefix, from its own IP, and returns what it saw at each step.
func probe(t *testing.T, prefix, typed, ip string) []seen {
	c := sitetest.NewClient(t, "").From(ip)
	var saw []seen
	start := time.Now()
	see := func(res *sitetest.Response) {
		fp, ws := fingerprint(res)
		saw = append(saw, seen{print: fp, waits: ws, elapsed: time.Since(start)})
	}
	page := c.Get(prefix + "login?rd=%2Fadmin%2Fx")
	see(page)
	tok := sitetest.CSRFField.FindStringSubmatch(page.Text)[1]
	see(c.Post(prefix+"login", url.Values{"username": {typed}, "csrf": {tok}}))
	see(c.Get(prefix + "verify"))
	see(c.Post(prefix+"verify", url.Values{"code": {"000000"}, "csrf": {tok}}))
	see(c.Post(prefix+"verify", url.Values{"action": {"app"}, "code": {"000000"}, "csrf": {tok}}))
	see(c.Post(prefix+"verify", url.Values{"action": {"resend"}, "csrf": {tok}}))
	see(c.Get(prefix + "status"))
	return saw
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
					if known[i].print != unknown[i].print || !consistent(known[i], unknown[i]) {
						t.Fatalf("outage %v, %s, %q vs %q, step %d:\n--- known (waits %v s, %s into its probe)\n%s\n--- unknown (waits %v s, %s into its probe)\n%s",
							outage, prefix, pair[0], pair[1], i, known[i].waits, known[i].elapsed, known[i].print, unknown[i].waits, unknown[i].elapsed, unknown[i].print)
					}
				}
			}
		}
	}
	if len(hook.Requests()) == 0 {
		t.Fatal("no code was ever sent: the comparison proved nothing")
	}
}

// TestFingerprintHidesEveryCountdown: two answers that differ only in how
// far their countdowns have run have one fingerprint, their waits aside
// (consistent judges those): a probe that a busy machine slowed must not
// look like another account.
func TestFingerprintHidesEveryCountdown(t *testing.T) {
	answer := func(n int) *sitetest.Response {
		res := &http.Response{StatusCode: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {strconv.Itoa(n)}}}
		return &sitetest.Response{Response: res, Text: fmt.Sprintf(`<p class="error">Please wait %[1]d seconds before requesting another code.</p>`+
			`<button data-resend-in="%[1]d">Send again</button><p class="hint">You can ask for a new code in %[1]d s.</p>{"resend_in":%[1]d}`, n)}
	}
	a, aw := fingerprint(answer(28))
	b, bw := fingerprint(answer(30))
	if a != b {
		t.Fatalf("answers 2 s apart have two fingerprints:\n%s\n%s", a, b)
	}
	if want := []int{28, 28, 28, 28, 28}; !slices.Equal(aw, want) || len(bw) != len(want) {
		t.Fatalf("waits %v and %v, want every countdown of each: %v", aw, bw, want)
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

// TestWaitsAreComparedAsCooldowns: the waits of two answers are the same
// cooldown only when the time their probes had run can explain the
// difference (consistent).
func TestWaitsAreComparedAsCooldowns(t *testing.T) {
	ms := time.Millisecond
	for _, c := range []struct {
		a, b seen
		want bool
	}{
		{seen{waits: []int{30}, elapsed: 40 * ms}, seen{waits: []int{30}, elapsed: 40 * ms}, true},
		// A probe slowed by a loaded machine: a second of it went by.
		{seen{waits: []int{29}, elapsed: 1500 * ms}, seen{waits: []int{30}, elapsed: 300 * ms}, true},
		// One second shorter for one name, on an idle machine: a tell.
		{seen{waits: []int{29}, elapsed: 40 * ms}, seen{waits: []int{30}, elapsed: 40 * ms}, false},
		{seen{waits: []int{30, 60}, elapsed: 2000 * ms}, seen{waits: []int{30, 30}, elapsed: 2000 * ms}, false},
	} {
		if got := consistent(c.a, c.b); got != c.want {
			t.Errorf("consistent(%v, %v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}
