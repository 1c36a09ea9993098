package pages_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/store"
)

// The global budgets (global_enrolled, global_new) are a realm's (budget40,
// close18 Left 4). Before, each was one window for the whole store, so on
// a store two sites share, a low-value site's traffic spent the budget an
// important site's enrolled users sign in with.

// realmsSite is one site whose /low gate is a realm of its own
// (low.localhost) and whose / and /admin gates are one realm (localhost's),
// all three on storeLine, with a global_enrolled of one an hour.
func realmsSite(t *testing.T, storeLine string) *sitetest.Site {
	t.Helper()
	gate := func(prefix, realm string) string {
		return fmt.Sprintf(`smsgate {
			%s
			%s
			%s
			provider log
			limit global_enrolled 1 1h
		}`, realm, prefix, storeLine)
	}
	return sitetest.Start(t, fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	basic_auth argon2id {
		alice %[1]s
		bob %[1]s
		carol %[1]s
	}
	handle /low/* {
		%[2]s
		respond "low {http.auth.user.id}"
	}
	handle /admin/* {
		%[3]s
		respond "admin {http.auth.user.id}"
	}
	handle {
		%[4]s
		respond "home {http.auth.user.id}"
	}
}`, sitetest.DemoHash, gate("path_prefix /low/.smsgate/", "realm low.localhost"), gate("path_prefix /admin/.smsgate/", ""), gate("", "")))
}

// enrollAt enrolls c's user with num at the gate whose pages are under
// prefix ("/low/.smsgate").
func enrollAt(t *testing.T, s *sitetest.Site, c *sitetest.Client, prefix, num string) {
	t.Helper()
	tok := c.CSRF(prefix + "/enroll")
	sitetest.Expect(t, c.Post(prefix+"/enroll", url.Values{"phone": {num}, "csrf": {tok}}), http.StatusSeeOther, prefix+"/verify")
	res := c.Post(prefix+"/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}})
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), prefix+"/") {
		t.Fatalf("%s's enrollment code at %s: %d %s", c.User, prefix, res.StatusCode, res.Header.Get("Location"))
	}
}

// signInSend has a new browser of user's ask the gate under prefix for a
// sign-in code, and reports the answer and whether one was sent.
func signInSend(t *testing.T, s *sitetest.Site, user, prefix string) (*sitetest.Response, bool) {
	t.Helper()
	c := sitetest.NewClient(t, user)
	sitetest.Expect(t, c.Get(prefix+"/login"), http.StatusSeeOther, prefix+"/verify")
	tok := c.CSRF(prefix + "/verify")
	sent := s.Sent()
	res := c.Post(prefix+"/verify", url.Values{"action": {"send"}, "csrf": {tok}})
	return res, s.Sent() == sent+1
}

// Two realms on one store: bob's sign-ins at the low realm spend its
// global_enrolled (the next refused), and alice, enrolled in the other
// realm, still gets her code; carol, of alice's realm at its other gate
// (/admin), is then refused: a realm's gates share its budget. Before,
// alice was refused too (429): the store's one budget was bob's realm's.
func TestEachRealmHasItsOwnGlobalBudget(t *testing.T) {
	sitetest.Parallel(t)
	onBothStores(t, func(t *testing.T, storeLine string) {
		s := realmsSite(t, storeLine)
		sitetest.Enroll(t, s, sitetest.NewClient(t, "alice"), "+14155552671")
		enrollAt(t, s, sitetest.NewClient(t, "carol"), "/admin/.smsgate", "+14155552673")
		enrollAt(t, s, sitetest.NewClient(t, "bob"), "/low/.smsgate", "+14155552672")
		if res, sent := signInSend(t, s, "bob", "/low/.smsgate"); !sent {
			t.Fatalf("bob's first sign-in at the low realm: %d, no code", res.StatusCode)
		}
		s.Advance(10 * time.Minute) // past bob's cooldown
		if res, sent := signInSend(t, s, "bob", "/low/.smsgate"); sent || res.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("bob's second sign-in with the low realm's global_enrolled spent: %d, sent %v; want 429 and none", res.StatusCode, sent)
		}
		if res, sent := signInSend(t, s, "alice", "/.smsgate"); !sent {
			t.Fatalf("alice's sign-in in her realm after the low realm's budget was spent: %d, no code; want her code (a budget of her realm's)", res.StatusCode)
		}
		if res, sent := signInSend(t, s, "carol", "/admin/.smsgate"); sent || res.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("carol's sign-in at her realm's other gate after alice's: %d, sent %v; want 429 and none (the realm's gates share its budget)", res.StatusCode, sent)
		}
	})
}

// The previous release counted global_enrolled in one window for the
// store (limit/global_enrolled/all): its sends still count in a realm's
// budget after the upgrade, until they leave the window. Two sends of the
// previous release's ten minutes before, a budget of 3: alice's first
// sign-in is the third (sent), her second refused (429), and once the
// old sends are an hour old, her third is sent. Before (the old window
// unread), the second was sent: the upgrade had given every realm its
// whole budget again.
func TestTheStoresBudgetOfThePreviousReleaseStillCounts(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStoreFirst(t, func(t *testing.T, st store.Store, closeStore func() error, storeLine string) {
		before := time.Now().Add(-10 * time.Minute)
		for i := range 2 {
			// As the previous release counted a send to an enrolled number.
			ok, _, err := st.Slide(context.Background(), store.Key("limit", "global_enrolled", "all"), fmt.Sprint("old", i), 3, time.Hour, before)
			if err != nil || !ok {
				t.Fatalf("the previous release's send %d: ok=%v err=%v", i, ok, err)
			}
		}
		if err := closeStore(); err != nil {
			t.Fatal(err)
		}
		s := budgetSite(t, storeLine, "provider log\n\t\tlimit global_enrolled 3 1h")
		sitetest.Enroll(t, s, sitetest.NewClient(t, "alice"), "+14155552671")
		if res, sent := signInSend(t, s, "alice", "/.smsgate"); !sent {
			t.Fatalf("alice's first sign-in, the budget's third send: %d, no code", res.StatusCode)
		}
		s.Advance(10 * time.Minute) // past the cooldown
		res, sent := signInSend(t, s, "alice", "/.smsgate")
		if sent || res.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("alice's second sign-in, a fourth send with the previous release's two: %d, sent %v; want 429 and none", res.StatusCode, sent)
		}
		s.Advance(45 * time.Minute) // the old sends an hour old and more
		if res, sent := signInSend(t, s, "alice", "/.smsgate"); !sent {
			t.Fatalf("alice's third sign-in, the previous release's sends out of the window: %d, no code", res.StatusCode)
		}
	})
}
