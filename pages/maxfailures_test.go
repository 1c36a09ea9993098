package pages_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/store"
)

// TestMaxFailuresHoldUnderABurst: through a real Caddy, 120 wrong app
// codes for carol sent at once, each from its own loopback address, get at
// most max_failures (10) compared, and the account is locked after them:
// each try takes its place among the account's max_failures in the batch
// that reads the locks (enrollment's takeFailure), and a try past them is
// refused unchecked. Before, the lock was written only once a code had
// been compared, so every try that read the locks before that was
// compared: 85 of 120 on Badger, 21 on Redis (the race finder's counts;
// this test before the fix: 101 and 47, now 10 and 10).
func TestMaxFailuresHoldUnderABurst(t *testing.T) {
	sitetest.Parallel(t)
	onBothStores(t, maxFailuresHoldUnderABurst)
}

func maxFailuresHoldUnderABurst(t *testing.T, storeLine string) {
	const maxFailures, tries = 10, 120
	s := guessSiteOn(t, storeLine, "max_failures 10\n\t\t\tlimit guesses 100 1d")
	_, secret := carolWithApp(t, s)
	s.Advance(time.Minute)

	// A stranger names carol once; each try of the burst is from its own
	// address (127.0.0.100–219) with that browser's cookies.
	c, tok, wrongAnswers, unavailable := wrongCodeBurst(t, s, secret, tries, func(i int) *sitetest.Client {
		return sitetest.NewClient(t, "").OnLoopback(100 + i)
	})
	// A compared code is answered "wrong", or, when it began an account
	// lock (the max_failures-th), logged so (locked_out); a try refused
	// unchecked is neither, but of the refused tries one begins the lock
	// too (lockAccount: one a lock): so max_failures + 1 at most.
	locks := 0
	for _, e := range s.LogEntries("locked_out") {
		if e["account"] == true && e["user"] == "carol" {
			locks++
		}
	}
	t.Logf("of %d wrong codes at once: %d answered wrong, %d began an account lock", tries, wrongAnswers, locks)
	// A try cut by its budget may be the one that began the lock, its line
	// unwritten: then the right code's refusal below shows the lock.
	if seen := wrongAnswers + locks; seen > maxFailures+1 || wrongAnswers >= maxFailures || locks == 0 && unavailable == 0 {
		t.Fatalf("of %d wrong codes sent at once, %d answered wrong and %d began an account lock; want fewer than max_failures %d wrong, and a lock, %d in all at most",
			tries, wrongAnswers, locks, maxFailures, maxFailures+1)
	}
	// The lock holds against the right code, from yet another address.
	right := sitetest.NewClient(t, "").OnLoopback(250)
	right.HTTP.Jar = c.HTTP.Jar
	s.Advance(30 * time.Second)
	sitetest.Expect(t, right.Post("/admin/.smsgate/verify", url.Values{"action": {"app"}, "code": {sitetest.AppCode(t, secret)}, "csrf": {tok}}),
		http.StatusTooManyRequests, "")
}

// TestARightCodeStartsMaxFailuresAfresh: through a real Caddy, on Badger
// and Redis, max_failures counts wrong codes in a row: after two wrong
// codes from strangers, carol signing in on a new browser (a stranger's
// count, as theirs) starts it afresh, so two more wrong codes are answered
// "wrong" and the third locks. Before, a right code gave back its own
// slot among max_failures alone (a Delete did not empty Badger's window):
// the wrong codes before it still counted for 15 minutes, and the second
// wrong code after it locked carol out.
func TestARightCodeStartsMaxFailuresAfresh(t *testing.T) {
	sitetest.Parallel(t)
	onBothStores(t, rightCodeStartsMaxFailuresAfresh)
}

func rightCodeStartsMaxFailuresAfresh(t *testing.T, storeLine string) {
	s := guessSiteOn(t, storeLine, "max_failures 3\n\t\t\tlimit guesses 100 1d")
	_, secret := carolWithApp(t, s)
	s.Advance(time.Minute) // past the step carol's code was used at
	a := newGuesser(t)
	wrong := func(when string, n int) {
		t.Helper()
		for i := range n {
			res := a.guess(sitetest.WrongCode(sitetest.AppCode(t, secret)))
			if res.StatusCode != http.StatusBadRequest || !strings.Contains(res.Text, "Wrong code") {
				t.Fatalf("wrong code %d %s: %d; want it answered wrong\n%s", i+1, when, res.StatusCode, res.Text)
			}
		}
	}
	wrong("before carol signs in", 2)
	s.Advance(30 * time.Second)
	carol := newGuesser(t) // a new browser of carol's, at a new address
	sitetest.Expect(t, carol.guess(sitetest.AppCode(t, secret)), http.StatusSeeOther, "/")
	wrong("after carol signed in", 2)
	sitetest.Expect(t, a.guess(sitetest.WrongCode(sitetest.AppCode(t, secret))), http.StatusTooManyRequests, "")
}

// spentBudgets checks that each of the burst's n tries answered 503 spent
// its request's store time (store.RequestBudget, 3 s of wall time in
// store calls), as the log says ("checking a code": the budget's deadline,
// go-redis's read cut at it, or ErrBudgetSpent), and nothing else failed. A budget is wall time: 120
// tries at once through a race-enabled Caddy on two busy cores spent it
// now and then (on Redis: 5 of 16 runs at load 25-40, two copies at once;
// once in a whole run of the package beside another copy), and the test
// failed on an answer it does not judge. Such a try counts neither as
// compared nor as refused: the bounds below still hold for those answered,
// and the lock must still hold.
func spentBudgets(t *testing.T, s *sitetest.Site, n int) {
	t.Helper()
	spent := 0
	for _, e := range s.LogEntries("checking a code") {
		err, _ := e["error"].(string)
		for _, timedOut := range []string{context.DeadlineExceeded.Error(), store.ErrBudgetSpent.Error(), "i/o timeout"} { // "i/o timeout": go-redis's read, to the budget's deadline
			if strings.Contains(err, timedOut) {
				spent++
				break
			}
		}
	}
	if spent != n {
		raw, _ := os.ReadFile(s.LogFile)
		var errs []string
		for _, l := range strings.Split(string(raw), "\n") {
			if strings.Contains(l, `"level":"error"`) {
				errs = append(errs, l)
			}
		}
		t.Errorf("%d tries of the burst answered 503, %d of them for their store time spent (the log): another failure; the log's errors:\n%s", n, spent, strings.Join(errs, "\n"))
	} else if n > 0 {
		t.Logf("%d tries of the burst spent their store time (a loaded machine)", n)
	}
}

// wrongCodeBurst sends tries wrong app codes for carol at once, the i-th
// from the client from(i), after a stranger named carol at 192.0.2.10:
// the tries share that browser's cookies and CSRF token (c, tok). It
// counts the tries answered "Wrong code" (compared) and those answered 503
// (their store time spent, which spentBudgets checks); any other answer
// than those and 429 fails t.
func wrongCodeBurst(t *testing.T, s *sitetest.Site, secret string, tries int, from func(i int) *sitetest.Client) (c *sitetest.Client, tok string, wrongAnswers, unavailable int) {
	t.Helper()
	c = sitetest.NewClient(t, "").From("192.0.2.10")
	tok = c.CSRF("/admin/.smsgate/login")
	sitetest.Expect(t, c.Post("/admin/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/admin/.smsgate/verify")
	wrong := sitetest.WrongCode(sitetest.AppCode(t, secret))
	answers := make(chan *sitetest.Response, tries)
	start := make(chan struct{})
	for i := range tries {
		a := from(i)
		a.HTTP.Jar = c.HTTP.Jar
		go func() {
			<-start
			answers <- a.Post("/admin/.smsgate/verify", url.Values{"action": {"app"}, "code": {wrong}, "csrf": {tok}})
		}()
	}
	close(start)
	for range tries {
		switch res := <-answers; {
		case res.StatusCode == http.StatusBadRequest && strings.Contains(res.Text, "Wrong code"):
			wrongAnswers++
		case res.StatusCode == http.StatusServiceUnavailable && strings.Contains(res.Text, "Sign-in is unavailable right now"):
			unavailable++
		case res.StatusCode != http.StatusTooManyRequests:
			t.Errorf("a try of the burst: %d\n%s", res.StatusCode, res.Text)
		}
	}
	spentBudgets(t, s, unavailable)
	return c, tok, wrongAnswers, unavailable
}
