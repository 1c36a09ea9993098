package pages_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestLockoutAfterHoldsUnderABurstFromOneAddress: through a real Caddy,
// 60 wrong app codes for carol sent at once from one address, with
// lockout_after 3 (max_failures 100), get at most 3 compared, the rest
// answered 429 unchecked, and the right code from that address is then
// refused: each try takes a slot among lockout_after from its address in
// the batch that reads the locks (enrollment's takeFailureAt), as it does
// among the account's max_failures. Before (attack40 H1), the address's
// lock was written only once a code had been compared, so every try that
// read the locks before that was compared: 60 of 60 on Redis, 6–9 on
// Badger. On Badger and Redis.
func TestLockoutAfterHoldsUnderABurstFromOneAddress(t *testing.T) {
	sitetest.Parallel(t)
	onBothStores(t, func(t *testing.T, storeLine string) {
		const lockAfter, tries = 3, 60
		s := guessSiteOn(t, storeLine, "max_failures 100\n\t\t\tlimit guesses 100 1d\n\t\t\tlockout_after 3\n\t\t\tlockout 1h")
		_, secret := carolWithApp(t, s)
		s.Advance(time.Minute)

		c, tok, wrongAnswers, _ := wrongCodeBurst(t, s, secret, tries, func(int) *sitetest.Client {
			return sitetest.NewClient(t, "").From("192.0.2.10") // the same address
		})
		// Of the compared codes, the lockout_after-th begins the lock
		// (answered 429): fewer than lockout_after are answered wrong.
		t.Logf("of %d wrong codes at once from one address: %d answered wrong", tries, wrongAnswers)
		if wrongAnswers >= lockAfter {
			t.Fatalf("of %d wrong codes sent at once from one address, %d answered wrong; want fewer than lockout_after (%d)", tries, wrongAnswers, lockAfter)
		}
		s.Advance(30 * time.Second)
		sitetest.Expect(t, c.Post("/admin/.smsgate/verify", url.Values{"action": {"app"}, "code": {sitetest.AppCode(t, secret)}, "csrf": {tok}}),
			http.StatusTooManyRequests, "")
	})
}
