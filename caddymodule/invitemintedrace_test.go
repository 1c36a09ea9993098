package caddymodule_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestTwoConsoleMintsAtOnceEndWithTheirAdmin (attack36 F1): a thief
// holding admin mallory's account posts the console's invite for mal_i
// from two tabs at once, for 15 names; alice then revokes mallory. Every
// link handed out is ended by an administrator. (Before, a mint that
// finished last dropped the other's entry, the live link, from her index:
// 2–3 of 15 links live on Badger, 4–6 on Redis.) The forced orders are
// enrollment's TestTheMintFinishing*; this is the double submit as a
// browser makes it, on Badger and Redis.
func TestTwoConsoleMintsAtOnceEndWithTheirAdmin(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		const rounds = 15
		users := []string{"alice", "mallory"}
		for i := range rounds {
			users = append(users, fmt.Sprint("mal", i))
		}
		s := textSite(t, storeLine, users, "\t\tadmins alice mallory\n")
		addUser(t, s, "alice", "+14155552670")
		addUser(t, s, "mallory", "+14155552671")
		tab1, tab2 := sitetest.NewClient(t, "mallory"), sitetest.NewClient(t, "mallory")
		signIn(t, s, tab1)
		s.Advance(time.Minute) // past the first code's cooldown
		signIn(t, s, tab2)

		var links [][2]string
		for i := range rounds {
			page := fmt.Sprintf("/.smsgate/admin/user?name=mal%d", i)
			tabs := []*sitetest.Client{tab1, tab2}
			forms := make([]url.Values, 2)
			for j, c := range tabs {
				m := sitetest.CSRFField.FindStringSubmatch(c.Get(page).Text)
				if m == nil {
					t.Fatalf("no console for tab %d", j)
				}
				forms[j] = url.Values{"action": {"invite"}, "csrf": {m[1]}}
			}
			res := make([]*sitetest.Response, 2)
			done := make(chan struct{})
			for j := range tabs {
				go func() {
					defer func() { done <- struct{}{} }()
					res[j] = tabs[j].PostWith(page, forms[j], map[string]string{"Origin": s.Base})
				}()
			}
			<-done
			<-done
			for j := range tabs {
				if res[j].StatusCode != http.StatusSeeOther {
					continue // raced (409): no link
				}
				if m := inviteLink.FindStringSubmatch(sitetest.ConsoleDone(t, res[j], "invite").Text); m != nil {
					links = append(links, [2]string{fmt.Sprint("mal", i), m[1]})
				}
			}
		}

		alice := sitetest.NewClient(t, "alice")
		signIn(t, s, alice)
		const malloryPage = "/.smsgate/admin/user?name=mallory"
		f := url.Values{"action": {"revoke"}, "confirm": {"1"}, "csrf": {sitetest.CSRFField.FindStringSubmatch(alice.Get(malloryPage).Text)[1]}}
		sitetest.ConsoleDone(t, alice.PostWith(malloryPage, f, map[string]string{"Origin": s.Base}), "revoke")
		live := 0
		for _, l := range links {
			if got := sitetest.NewClient(t, l[0]).Get("/.smsgate/invite?token=" + l[1]); got.StatusCode == http.StatusOK {
				live++
			}
		}
		if live > 0 {
			t.Errorf("%d of the %d links handed out still live after mallory's revoke", live, len(links))
		}
	})
}
