package pages_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAKnownCookieCopiedTo50ClientsAtOnce: a user's known-browser cookie,
// copied to 50 clients that each name her and type a wrong app code at
// once, from her address or from 50 addresses. A known browser's wrong
// codes are counted apart from strangers' (6dd0a3c): the bound is its
// side's, however many type at once (on Badger and Redis); and the
// strangers' side is not spent by them. Of codes typed at once the bound
// is max_failures's: at most that many take the side's slots and are
// compared, the last of them answered with the account lock it began, so
// at most max_failures-1 are answered "Wrong code" (bound). From one
// address lockout_after is no bound at once: its lock is written after a
// compare, when the tries holding slots have read the locks already. On
// Redis the one that counts the address's lockout_after-th wrong code
// begins its lock (429), and 3 are answered wrong; on Badger a try's count
// of the address and of the account are two writes (no atomic batch), so
// under load that try may count the account's max_failures-th too, and
// then begins both locks (before, the account's alone, and the address's
// later ones were answered wrong: 4, within the bound; before that, the
// bound was lockout_after and this failed). One Caddy a store: each case has a
// user, an address and 50 thieves' addresses of its own (so no count of
// one case's, per user or per address, is another's), and the cases run
// one after another (the site's clock and last code are the site's).
func TestAKnownCookieCopiedTo50ClientsAtOnce(t *testing.T) {
	sitetest.Parallel(t)
	const clients, lockAfter, maxFailures = 50, 3, 5
	cases := []struct {
		name  string
		known bool
		ips   int
		bound int
		user  string
	}{{"known/one address", true, 1, maxFailures - 1, "carol"}, {"known/50 addresses", true, clients, maxFailures - 1, "dave"},
		{"strangers/one address", false, 1, maxFailures - 1, "erin"}, {"strangers/50 addresses", false, clients, maxFailures - 1, "frank"}}
	var users []string
	for i, c := range cases {
		users = append(users, fmt.Sprintf("user %s +1415555267%d", c.user, i+1))
	}
	onBothStores(t, func(t *testing.T, storeLine string) {
		limits := fmt.Sprintf("max_failures %d\n\t\t\tlimit guesses 100 1d\n\t\t\tlockout_after %d\n\t\t\tlockout 1h", maxFailures, lockAfter)
		s := guessSiteFor(t, strings.Join(users, "\n\t\t\t"), storeLine, limits, limits)
		for n, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				home := fmt.Sprintf("198.51.100.%d", 7+n) // the user's address
				owner, secret := userWithApp(t, s, c.user, home)
				s.Advance(time.Minute)
				known := owner.Cookie("smsgate_known")
				if known == "" {
					t.Fatalf("%s's browser has no known cookie", c.user)
				}
				sitetest.Expect(t, owner.Post("/admin/.smsgate/logout", url.Values{"csrf": {owner.CSRF("/admin/.smsgate/logout")}}), http.StatusOK, "")
				wrong := sitetest.WrongCode(sitetest.AppCode(t, secret))
				thieves, toks := make([]*sitetest.Client, clients), make([]string, clients)
				for i := range thieves {
					// Each names her from an address of its own (the login
					// form's own limits are not what is raced here).
					thieves[i] = sitetest.NewClient(t, "").From(fmt.Sprintf("203.0.113.%d", n*clients+i+1))
					if c.known {
						thieves[i].SetCookie("smsgate_known", known)
					}
					toks[i] = thieves[i].CSRF("/admin/.smsgate/login")
					sitetest.Expect(t, thieves[i].Post("/admin/.smsgate/login", url.Values{"username": {c.user}, "csrf": {toks[i]}}), http.StatusSeeOther, "/admin/.smsgate/verify")
					if c.ips == 1 {
						thieves[i].ForwardedFor = home
					}
				}
				statuses := make([]int, clients)
				texts := make([]string, clients)
				var wg sync.WaitGroup
				start := make(chan struct{})
				for i, th := range thieves {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						res := th.Post("/admin/.smsgate/verify", url.Values{"action": {"app"}, "code": {wrong}, "csrf": {toks[i]}})
						statuses[i], texts[i] = res.StatusCode, res.Text
					}()
				}
				close(start)
				wg.Wait()
				figures := map[string]int{}
				compared := 0
				for i, st := range statuses {
					switch {
					case st == http.StatusBadRequest && strings.Contains(texts[i], "Wrong code"):
						compared++
						figures["wrong code"]++
					default:
						figures[fmt.Sprint(st)]++
					}
				}
				t.Logf("%d clients at once: %v (bound %d)", clients, figures, c.bound)
				if compared > c.bound {
					t.Errorf("%d wrong codes compared at once; want at most %d: %v", compared, c.bound, figures)
				}
				if c.known {
					// The strangers' side is not spent: a new browser of hers
					// at her address signs in with her right code.
					s.Advance(30 * time.Second)
					other := sitetest.NewClient(t, "").From(home)
					tok := other.CSRF("/admin/.smsgate/login")
					sitetest.Expect(t, other.Post("/admin/.smsgate/login", url.Values{"username": {c.user}, "csrf": {tok}}), http.StatusSeeOther, "/admin/.smsgate/verify")
					sitetest.Expect(t, other.Post("/admin/.smsgate/verify", url.Values{"action": {"app"}, "code": {sitetest.AppCode(t, secret)}, "csrf": {tok}}), http.StatusSeeOther, "/")
				}
			})
		}
	})
}

// userWithApp is carolWithApp for user, whose browser is at home.
func userWithApp(t *testing.T, s *sitetest.Site, user, home string) (*sitetest.Client, string) {
	t.Helper()
	c := sitetest.NewClient(t, "").From(home)
	sitetest.SignInAs(t, s, c, user)
	tok := c.CSRF("/.smsgate/devices")
	secret := confirmApp(t, c, tok, c.Post("/.smsgate/devices", url.Values{"action": {"app"}, "csrf": {tok}}))
	s.Advance(30 * time.Second)
	tok = c.CSRF("/admin/.smsgate/login")
	c.Post("/admin/.smsgate/login", url.Values{"username": {user}, "csrf": {tok}})
	sitetest.Expect(t, c.Post("/admin/.smsgate/verify", url.Values{"action": {"app"}, "code": {sitetest.AppCode(t, secret)}, "csrf": {tok}}), http.StatusSeeOther, "/")
	return c, secret
}

// TestAKnownCookieCopiedTo50ClientsSendsAtOnce: carol's known-browser
// cookie copied to 50 clients at her address that each name carol at
// once (a text each, on her known side's budgets: ac7798e): at most one
// text is sent (her cooldown), however many ask at once, on Badger and
// Redis; and the strangers' send budget at her address is not spent.
func TestAKnownCookieCopiedTo50ClientsSendsAtOnce(t *testing.T) {
	sitetest.Parallel(t)
	onBothStores(t, func(t *testing.T, storeLine string) {
		const clients = 50
		s := sitetest.StartWith(t, sitetest.TrustedProxies, strings.Replace(sitetest.AppSite, "store badger {DIR}", storeLine+"\n\t\tlimit ip 3 1h", 1))
		carol := sitetest.NewClient(t, "").From("198.51.100.7")
		sitetest.SignIn(t, s, carol)
		known := carol.Cookie("smsgate_known")
		sitetest.Expect(t, carol.Post("/.smsgate/logout", url.Values{"csrf": {carol.CSRF("/.smsgate/logout")}}), http.StatusOK, "")
		s.Advance(time.Minute)
		thieves, toks := make([]*sitetest.Client, clients), make([]string, clients)
		for i := range thieves {
			thieves[i] = sitetest.NewClient(t, "").From("198.51.100.7")
			thieves[i].SetCookie("smsgate_known", known)
			toks[i] = thieves[i].CSRF("/.smsgate/login")
		}
		sent := s.Sent()
		statuses := make([]int, clients)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, th := range thieves {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				statuses[i] = th.Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {toks[i]}}).StatusCode
			}()
		}
		close(start)
		wg.Wait()
		figures := map[int]int{}
		for _, st := range statuses {
			figures[st]++
		}
		texts := s.Sent() - sent
		t.Logf("%d clients at once naming carol with her known cookie: %d texts sent, answers %v", clients, texts, figures)
		if texts > 1 {
			t.Errorf("%d texts sent at once; want at most 1 (her cooldown): %v", texts, figures)
		}
		// The strangers' sends at her address (limit ip 3, one spent by
		// carol's first sign-in, a stranger's then): two made-up names
		// more are taken, the third refused.
		mallory := sitetest.NewClient(t, "").From("198.51.100.7")
		taken := 0
		for i := range 3 {
			tok := mallory.CSRF("/.smsgate/login")
			if res := mallory.Post("/.smsgate/login", url.Values{"username": {fmt.Sprintf("nobody%d", i)}, "csrf": {tok}}); res.StatusCode != http.StatusTooManyRequests {
				taken++
			}
		}
		if taken != 2 {
			t.Errorf("a stranger at carol's address after her known side's burst: %d names taken, want 2", taken)
		}
	})
}
