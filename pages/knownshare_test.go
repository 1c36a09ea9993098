package pages_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// shareSite is a gate of four users whose known browsers' passkey
// sign-ins begun at a login form are bounded at 2 per address, 8 in total
// (strangers 8: the known browsers' total is as large) and 3 per user
// (known_user 3), on storeLine's store.
const shareSite = `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		user carol +14155552671
		user mallory +14155550199
		user dave +14155550142
		user erin +14155550123
		site_origin http://localhost:{HTTP_PORT}
		limit stranger_ip 2 1h
		limit strangers 8 1h
		limit known_user 3 1h
		store badger {DIR}
		provider log
	}
	respond "hi"
}`

// TestOneUsersKnownCookieStopsAtHerShare: a passkey sign-in begun at a
// login form by a known browser (the usernameless passkey button) counts
// in the realm's total of the known browsers' (strangers-known), whoever's
// cookie it is: mallory, a user of the realm, sent her own known-browser
// cookie from six addresses (each address's tally is hers alone) and spent
// the total, and every other user's button was refused (429) for the rest
// of the window (attack40 H3; before: 8 of her 12 admitted, carol's 429).
// Now a user takes at most her share (known_user); a request her share
// refuses counts in no total, so carol's, dave's and erin's buttons still
// work; and many users together still stop at the total, the store's
// bound. On Badger and Redis, through a real Caddy.
func TestOneUsersKnownCookieStopsAtHerShare(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := sitetest.StartWith(t, sitetest.TrustedProxies, strings.Replace(shareSite, "store badger {DIR}", storeLine, 1))
		s.StartOfHour() // the totals count in clock-aligned windows: all of this in one
		begin := func(c *sitetest.Client) *sitetest.Response {
			c.CSRF("/.smsgate/login") // a flow
			return c.PostJSON("/.smsgate/passkey/login/begin", s.Base, map[string]string{})
		}
		known := map[string]*sitetest.Client{}
		for i, user := range []string{"carol", "mallory", "dave", "erin"} {
			c := sitetest.NewClient(t, "").From(fmt.Sprintf("198.51.100.%d", 10+i))
			sitetest.SignInAs(t, s, c, user) // her browser is known from then on
			sitetest.Expect(t, c.Post("/.smsgate/logout", url.Values{"csrf": {c.CSRF("/.smsgate/logout")}}), http.StatusOK, "")
			known[user] = c
		}

		// Mallory's own known browser, from six addresses, two each.
		admitted := 0
		for i := range 6 {
			known["mallory"].From(fmt.Sprintf("203.0.113.%d", 10+i))
			for range 2 {
				switch res := begin(known["mallory"]); res.StatusCode {
				case http.StatusOK:
					admitted++
				case http.StatusTooManyRequests:
					sitetest.ExpectBody(t, res, "Too many sign-ins were started from your account")
				default:
					t.Fatalf("mallory's passkey sign-in: %d\n%s", res.StatusCode, res.Text)
				}
			}
		}
		if admitted != 3 {
			t.Errorf("mallory's known browser from six addresses: %d passkey sign-ins begun, want her share's 3", admitted)
		}

		// Another user's button still works: her share, from two addresses.
		for i := range 3 {
			known["carol"].From(fmt.Sprintf("198.51.100.%d", 20+i/2))
			if res := begin(known["carol"]); res.StatusCode != http.StatusOK {
				t.Fatalf("carol's known browser %d, after mallory spent her share: %d, want 200\n%s", i+1, res.StatusCode, res.Text)
			}
		}
		// Many users still stop at the total: 3 + 3 + dave's 2 is 8.
		for i, want := range []int{http.StatusOK, http.StatusOK, http.StatusTooManyRequests} {
			known["dave"].From(fmt.Sprintf("198.51.100.%d", 30+i)) // no address's tally in the way
			res := begin(known["dave"])
			sitetest.Expect(t, res, want, "")
			if i == 2 {
				sitetest.ExpectBody(t, res, "Too many sign-ins were started on this site")
			}
		}
		res := begin(known["erin"]) // her share untouched, the total spent
		sitetest.Expect(t, res, http.StatusTooManyRequests, "")
		sitetest.ExpectBody(t, res, "Too many sign-ins were started on this site")
	})
}
