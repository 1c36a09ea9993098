package pages_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

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
	onBothStores(t, func(t *testing.T, storeLine string) {
		s := sitetest.StartWith(t, sitetest.TrustedProxies, fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	handle /admin* {
		smsgate {
			identity none
			user carol +14155552671
			path_prefix /admin/.smsgate/
			require totp
			limit guesses 3 1h
			%[1]s
			provider log
		}
		respond "admin {http.auth.user.id}"
	}
	handle {
		smsgate {
			identity none
			user carol +14155552671
			limit guesses 3 1d
			%[1]s
			provider log
		}
		respond "Hello, {http.auth.user.id}"
	}
}`, storeLine))
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
