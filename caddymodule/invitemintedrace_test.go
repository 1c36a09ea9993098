package caddymodule_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestTwoConsoleMintsAtOnceEndWithTheirAdmin (attack36 F1): a thief
// holding admin mallory's account posts the console's invite for one user
// from two tabs at once; alice then revokes mallory. Every link handed out
// is ended by an administrator. (Before, a mint that finished last dropped
// the other's entry, the live link, from her index.) The two orders
// enrollment's TestTheMintFinishingLastKeepsTheLiveMintIndexed and
// TestTheMintFinishingFirstKeepsTheMintInFlight force on the store alone,
// forced here through a real Caddy on Badger and Redis, the double submit
// as a browser makes it: tab 1's mint for mal0 held once it wrote the
// record naming its invite mal0's newest, tab 2's run whole meanwhile (the
// mint finishing last); tab 1's mint for mal1 held once it wrote its
// invite, before that record, tab 2's run whole meanwhile (the mint
// finishing first, the other in flight). (Fifteen rounds of two posts at
// once left the orders to luck; each order failed without its fix.)
func TestTwoConsoleMintsAtOnceEndWithTheirAdmin(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		dir := t.TempDir()
		s := textSite(t, strings.Replace(storeLine, "store ", "store smsgate_test_hold "+dir+" ", 1),
			[]string{"alice", "mallory", "mal0", "mal1"}, "\t\tadmins alice mallory\n")
		addUser(t, s, "alice", "+14155552670")
		addUser(t, s, "mallory", "+14155552671")
		tab1, tab2 := sitetest.NewClient(t, "mallory"), sitetest.NewClient(t, "mallory")
		signIn(t, s, tab1)
		s.Advance(time.Minute) // past the first code's cooldown
		signIn(t, s, tab2)

		var links [][2]string // user, token
		mint := func(tab *sitetest.Client, user string, form url.Values) *sitetest.Response {
			return tab.PostWith("/.smsgate/admin/user?name="+user, form, map[string]string{"Origin": s.Base})
		}
		handedOut := func(user string, res *sitetest.Response) bool {
			if res.StatusCode != http.StatusSeeOther {
				return false // replaced meanwhile (409): no link
			}
			m := inviteLink.FindStringSubmatch(sitetest.ConsoleDone(t, res, "invite").Text)
			if m != nil {
				links = append(links, [2]string{user, m[1]})
			}
			return m != nil
		}
		for _, c := range []struct {
			user string
			hold sitetest.Hold // where tab 1's mint is held
			live string        // the tab whose link is the user's newest
		}{
			{"mal0", sitetest.Hold{Of: "mal0", Op: "write", Key: "invite-latest/localhost/mal0"}, "tab 2"},
			{"mal1", sitetest.Hold{Of: "localhost", Op: "write", Key: "invite/localhost/*"}, "tab 1"},
		} {
			forms := make([]url.Values, 2)
			for j, tab := range []*sitetest.Client{tab1, tab2} {
				m := sitetest.CSRFField.FindStringSubmatch(tab.Get("/.smsgate/admin/user?name=" + c.user).Text)
				if m == nil {
					t.Fatalf("no console for tab %d", j+1)
				}
				forms[j] = url.Values{"action": {"invite"}, "csrf": {m[1]}}
			}
			sitetest.AddHold(t, dir, c.hold)
			held := sitetest.Park(t, dir, func() *sitetest.Response { return mint(tab1, c.user, forms[0]) })
			second := handedOut(c.user, mint(tab2, c.user, forms[1]))
			first := handedOut(c.user, held.Release(t))
			if live := map[string]bool{"tab 1": first, "tab 2": second}[c.live]; !live {
				t.Fatalf("%s: %s's mint, the user's newest, handed out no link (tab 1 %v, tab 2 %v)", c.user, c.live, first, second)
			}
		}

		alice := sitetest.NewClient(t, "alice")
		signIn(t, s, alice)
		const malloryPage = "/.smsgate/admin/user?name=mallory"
		f := url.Values{"action": {"revoke"}, "confirm": {"1"}, "csrf": {sitetest.CSRFField.FindStringSubmatch(alice.Get(malloryPage).Text)[1]}}
		sitetest.ConsoleDone(t, alice.PostWith(malloryPage, f, map[string]string{"Origin": s.Base}), "revoke")
		for _, l := range links {
			if got := sitetest.NewClient(t, l[0]).Get("/.smsgate/invite?token=" + l[1]); got.StatusCode == http.StatusOK {
				t.Errorf("%s's link handed out still live after mallory's revoke", l[0])
			}
		}
	})
}
