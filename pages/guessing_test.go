package pages_test

// Guessing codes from unlimited IPs, as the outside attack on app codes
// ran it: a `require totp` gate with a login form (no text sent, nothing
// spent), a new client IP for every guess, for days on end.

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// guessSite is requireSite with the given lockout and guess limits.
func guessSite(t *testing.T, limits string) *sitetest.Site {
	return guessSiteOn(t, "store badger {DIR}", limits)
}

// guessSiteOn is guessSite on the store storeLine names.
func guessSiteOn(t *testing.T, storeLine, limits string) *sitetest.Site {
	return guessSitesOn(t, storeLine, limits, limits)
}

// guessSitesOn is guessSiteOn with the app-only gate's limits apart from
// the site's.
func guessSitesOn(t *testing.T, storeLine, adminLimits, limits string) *sitetest.Site {
	return guessSiteFor(t, "user carol +14155552671", storeLine, adminLimits, limits)
}

// guessSiteFor is guessSitesOn with users (user lines) in carol's place.
func guessSiteFor(t *testing.T, users, storeLine, adminLimits, limits string) *sitetest.Site {
	return sitetest.StartWith(t, sitetest.TrustedProxies, strings.NewReplacer("USERS", users, "ADMIN_LIMITS", adminLimits, "LIMITS", limits, "STORE", storeLine).Replace(`http://localhost:{HTTP_PORT} {
	handle /admin* {
		smsgate {
			identity none
			USERS
			path_prefix /admin/.smsgate/
			require totp
			ADMIN_LIMITS
			STORE
			provider log
		}
		respond "admin {http.auth.user.id} ({http.auth.user.amr})"
	}
	handle {
		smsgate {
			identity none
			USERS
			LIMITS
			STORE
			provider log
		}
		respond "Hello, {http.auth.user.id} ({http.auth.user.amr})"
	}
}`))
}

// guesser is an attacker at the app-only gate: a flow naming carol, and a
// new client IP for every guess.
type guesser struct {
	t   *testing.T
	c   *sitetest.Client
	tok string
	ips int
}

func newGuesser(t *testing.T) *guesser {
	g := &guesser{t: t, c: sitetest.NewClient(t, "")}
	g.login()
	return g
}

func (g *guesser) login() {
	g.t.Helper()
	g.c.ForwardedFor = "192.0.2.200"
	g.tok = g.c.CSRF("/admin/.smsgate/login")
	sitetest.Expect(g.t, g.c.Post("/admin/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {g.tok}}), http.StatusSeeOther, "/admin/.smsgate/verify")
}

// guess posts code from a fresh IP and says whether it was checked (a
// "wrong code"), refused (429), or let in.
func (g *guesser) guess(code string) *sitetest.Response {
	g.t.Helper()
	g.ips++
	g.c.ForwardedFor = fmt.Sprintf("10.%d.%d.%d", g.ips>>16&255, g.ips>>8&255, g.ips&255)
	res := g.c.Post("/admin/.smsgate/verify", url.Values{"action": {"app"}, "code": {code}, "csrf": {g.tok}})
	if res.StatusCode == http.StatusSeeOther && strings.Contains(res.Header.Get("Location"), "login") ||
		res.StatusCode == http.StatusForbidden && strings.Contains(res.Text, "This form has expired") {
		g.login() // the flow ended (an hour after its start at most): name carol again
		return g.guess(code)
	}
	return res
}

// carolWithApp gives carol an app, signs her in with it once at the
// app-only gate (so that browser is known there), and returns the browser
// and the app's secret.
func carolWithApp(t *testing.T, s *sitetest.Site) (*sitetest.Client, string) {
	t.Helper()
	carol := sitetest.NewClient(t, "").From("198.51.100.7")
	secret := addApp(t, s, carol)
	s.Advance(30 * time.Second)
	tok := carol.CSRF("/admin/.smsgate/login")
	carol.Post("/admin/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}})
	sitetest.Expect(t, carol.Post("/admin/.smsgate/verify", url.Values{"action": {"app"}, "code": {sitetest.AppCode(t, secret)}, "csrf": {tok}}), http.StatusSeeOther, "/")
	return carol, secret
}

// TestAppCodeGuessingIsBounded: non-stop guessing of carol's app codes
// from a new IP each time gets Guesses.Count checked guesses a day, so 30
// days of it stay under a 1% chance (the test computes that from the
// configured limits); carol's phones are told once a day while it goes on,
// the admin's log says so, and carol's own browser signs in throughout.
func TestAppCodeGuessingIsBounded(t *testing.T) {
	sitetest.Parallel(t)
	const perDay, days = 20, 3
	s := guessSite(t, fmt.Sprintf("max_failures 100\n\t\t\tlimit guesses %d 1d", perDay))
	carol, secret := carolWithApp(t, s)
	s.Advance(time.Minute)

	a := newGuesser(t)
	checked := make([]int, days)
	for step := range days * 24 * 4 { // every 15 minutes, guess until refused
		for {
			res := a.guess(sitetest.WrongCode(sitetest.AppCode(t, secret)))
			if res.StatusCode == http.StatusBadRequest && strings.Contains(res.Text, "Wrong code") {
				checked[step/96]++
				continue
			}
			if res.StatusCode != http.StatusTooManyRequests {
				t.Fatalf("guess %d: %d\n%s", a.ips, res.StatusCode, res.Text)
			}
			break
		}
		s.Advance(15 * time.Minute)
		if step%24 == 0 {
			// carol's known browser signs in whenever she likes.
			tok := carol.CSRF("/admin/.smsgate/login")
			carol.Post("/admin/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}})
			if res := carol.Post("/admin/.smsgate/verify", url.Values{"action": {"app"}, "code": {sitetest.AppCode(t, secret)}, "csrf": {tok}}); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("carol's own browser during the attack (step %d): %d\n%s", step, res.StatusCode, res.Text)
			}
		}
	}
	for d, n := range checked {
		if n > perDay {
			t.Errorf("day %d: %d guesses checked, want at most %d", d+1, n, perDay)
		}
	}
	// What the configured window allows in 30 days, and what that wins.
	limits := enrollment.DefaultLimits
	limits.Guesses = enrollment.Rate{Count: perDay, Window: 24 * time.Hour}
	n, odds := limits.GuessOdds(30, 6, 3)
	if n != 30*perDay || odds > 0.01 {
		t.Fatalf("30 days allow %d guesses, %.3f%%", n, odds*100)
	}
	_, defaults := enrollment.DefaultLimits.GuessOdds(30, 6, 3)
	t.Logf("checked per day: %v; 30 days at this window: %d guesses, %.3f%%; at the defaults (100 a day): %.3f%%", checked, n, odds*100, defaults*100)

	// The phones were told, once a day, and the log says so; no code was
	// texted by the app-only gate.
	waitFor(t, func() bool { return countIn(s.Notices(), "someone is trying codes") == days })
	locks := 0
	for _, e := range s.LogEntries("locked_out") {
		if e["account"] == true && e["user"] == "carol" {
			locks++
		}
	}
	if locks != days {
		t.Fatalf("%d account locks in the log over %d days", locks, days)
	}
	if s.Sent() != 1+len(s.Notices()) {
		t.Fatalf("%d messages: the attack had codes texted", s.Sent())
	}
}

// TestConsecutiveWrongCodesLock: strangers get at most max_failures wrong
// codes in a row before the account locks (NIST SP 800-63B), and the lock
// holds against the right code.
func TestConsecutiveWrongCodesLock(t *testing.T) {
	sitetest.Parallel(t)
	s := guessSite(t, "max_failures 10\n\t\t\tlimit guesses 20 1d")
	_, secret := carolWithApp(t, s)
	s.Advance(time.Minute)
	a := newGuesser(t)
	run := func() int {
		wrong := 0
		for {
			res := a.guess(sitetest.WrongCode(sitetest.AppCode(t, secret)))
			if res.StatusCode != http.StatusBadRequest {
				sitetest.Expect(t, res, http.StatusTooManyRequests, "")
				return wrong
			}
			wrong++
		}
	}
	// The tenth wrong code starts the lock: nine answered "wrong", then 429.
	if n := run(); n != 9 {
		t.Fatalf("%d wrong codes answered before the lock; want 9 (the 10th locks)", n)
	}
	if res := a.guess(sitetest.AppCode(t, secret)); res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("the right code while locked: %d", res.StatusCode)
	}
	s.Advance(16 * time.Minute)
	if n := run(); n != 9 {
		t.Fatalf("after the lock: %d wrong codes before the next; want 9", n)
	}
	// Twenty checked today: the window is full, whatever the lock's length.
	s.Advance(16 * time.Minute)
	if n := run(); n != 0 {
		t.Fatalf("%d more guesses checked with the day's window full", n)
	}
}

func countIn(list []string, substr string) int {
	n := 0
	for _, s := range list {
		if strings.Contains(s, substr) {
			n++
		}
	}
	return n
}

// waitFor polls cond for up to 5 s (notices go out after the answer).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for i := 0; !cond(); i++ {
		if i == 100 {
			t.Fatal("gave up waiting")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestGuessLimitsThatAllowTooMuchDoNotLoad: a window of guesses that would
// give 30 days of guessing more than a 1% chance, or none at all, is
// refused with the figure.
func TestGuessLimitsThatAllowTooMuchDoNotLoad(t *testing.T) {
	sitetest.Parallel(t)
	for limit, want := range map[string]string{
		"limit guesses 200 1d": "allows 6000 guesses in 30 days, a 1.8% chance",
		"limit guesses 10 1h":  "allows 7200 guesses in 30 days",
		"limit guesses off":    "at most 1% (100 a day) is allowed",
	} {
		sitetest.AssertLoadError(t, `{
	admin localhost:{ADMIN_PORT}
}
http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		user carol +14155552671
		`+limit+`
		store badger {DIR}
		provider log
	}
}`, want)
	}
}

// TestAShortWindowHidesNothingFromALongOne: two gates of one realm on one
// store, with another window for one limit (here the account's window of
// checked guesses: 3 a day at the site's gate, 3 an hour at the admin's).
// A guess at the hour's gate must not empty the day's window: before, the
// store trimmed the shared window by the span of whoever counted last, so
// one guess at the admin's gate each hour let the site's gate check its
// whole day's count again — 3 an hour, 72 a day, where it promises 3 (with
// the defaults and `limit guesses 4 1h` at the other gate: 100 an hour,
// 2,400 a day, 19% for an app code in 30 days where the window promises
// 1%). The same trimming let one site's short `limit ip`, `global_new` …
// (keys the store's sites share) reset another's.
func TestAShortWindowHidesNothingFromALongOne(t *testing.T) {
	sitetest.Parallel(t)
	onBothStores(t, func(t *testing.T, storeLine string) {
		s := guessSitesOn(t, storeLine, "limit guesses 3 1h", "limit guesses 3 1d")
		carol := sitetest.NewClient(t, "").From("198.51.100.7")
		addApp(t, s, carol)
		ips := 0
		// A stranger naming carol at the gate under prefix, guessing her
		// app's code from a new IP each time.
		guess := func(prefix string) int {
			t.Helper()
			s.Advance(31 * time.Second) // past the login's cooldown
			ips++
			c := sitetest.NewClient(t, "").From(fmt.Sprintf("203.0.113.%d", ips))
			tok := c.CSRF(prefix + "login")
			sitetest.Expect(t, c.Post(prefix+"login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, prefix+"verify")
			return c.Post(prefix+"verify", url.Values{"action": {"app"}, "code": {"000000"}, "csrf": {tok}}).StatusCode
		}
		for i := range 3 {
			if st := guess("/.smsgate/"); st != http.StatusBadRequest {
				t.Fatalf("guess %d at the site's gate: %d, want 400 (checked, wrong)", i, st)
			}
		}
		s.Advance(2 * time.Hour)
		if st := guess("/admin/.smsgate/"); st != http.StatusBadRequest {
			t.Fatalf("a guess at the admin's gate, none there in its hour: %d, want 400 (checked, wrong)", st)
		}
		if st := guess("/.smsgate/"); st != http.StatusTooManyRequests {
			t.Fatalf("a fourth guess in the site's gate's day: %d, want 429 (its window of 3 a day is full)", st)
		}
	})
}
