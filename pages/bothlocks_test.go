package pages_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAWrongCodeReachingBothLimitsStartsBothLocks: through a real Caddy,
// on Badger and Redis, with lockout_after 3, lockout 1h and max_failures
// 3, a stranger's third wrong code from one address reaches both limits:
// it locks the account for 15 minutes (carol's phones told so, once) and
// the address for the hour configured. Past the 15 minutes the address is
// still refused, even carol's right code typed there, while another
// address signs in. Before, only the account's lock started: at 16
// minutes the address was let in.
func TestAWrongCodeReachingBothLimitsStartsBothLocks(t *testing.T) {
	sitetest.Parallel(t)
	onBothStores(t, func(t *testing.T, storeLine string) {
		s := guessSiteOn(t, storeLine, "max_failures 3\n\t\t\tlimit guesses 100 1d\n\t\t\tlockout_after 3\n\t\t\tlockout 1h")
		_, secret := carolWithApp(t, s)
		s.Advance(time.Minute)
		mallory := sitetest.NewClient(t, "").From("203.0.113.9")
		tok := mallory.CSRF("/admin/.smsgate/login")
		sitetest.Expect(t, mallory.Post("/admin/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/admin/.smsgate/verify")
		verify := func(code string) *sitetest.Response {
			return mallory.Post("/admin/.smsgate/verify", url.Values{"action": {"app"}, "code": {code}, "csrf": {tok}})
		}
		wrong := sitetest.WrongCode(sitetest.AppCode(t, secret))
		for range 2 {
			sitetest.Expect(t, verify(wrong), http.StatusBadRequest, "")
		}
		sitetest.Expect(t, verify(wrong), http.StatusTooManyRequests, "")
		waitFor(t, func() bool { return countIn(s.Notices(), "paused for 15 minutes") == 1 })

		s.Advance(16 * time.Minute)
		if res := verify(sitetest.AppCode(t, secret)); res.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("the address 16 minutes after its third wrong code: %d, want 429 (its lock is an hour)\n%s", res.StatusCode, res.Text)
		}
		other := sitetest.NewClient(t, "").From("203.0.113.10")
		tok2 := other.CSRF("/admin/.smsgate/login")
		sitetest.Expect(t, other.Post("/admin/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok2}}), http.StatusSeeOther, "/admin/.smsgate/verify")
		sitetest.Expect(t, other.Post("/admin/.smsgate/verify", url.Values{"action": {"app"}, "code": {sitetest.AppCode(t, secret)}, "csrf": {tok2}}), http.StatusSeeOther, "/")
		if n := countIn(s.Notices(), "someone is trying codes"); n != 1 {
			t.Fatalf("%d lock notices, want 1:\n%q", n, s.Notices())
		}
	})
}
