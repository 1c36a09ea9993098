package session

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// retrust has m trust alice's browser, holding the trust cookie held ("" for
// none), a minute after the last (b: the sign-in began then), and returns
// its token and ID.
func retrust(t *testing.T, m *Manager, now *time.Time, held string) (string, string) {
	t.Helper()
	token, tb, err := retrustHeld(m, now, held)
	if err != nil {
		t.Fatal(err)
	}
	return token, tb.ID
}

// retrustHeld is retrust's TrustHeld, its error answered.
func retrustHeld(m *Manager, now *time.Time, held string) (string, *TrustedBrowser, error) {
	*now = now.Add(time.Minute)
	return m.TrustHeld(context.Background(), m.Begin(), "alice", held, "K1", time.Time{}, Where{Browser: "Firefox", System: "Linux"}, "D1", []factor.AMR{factor.AMRSMS}, now.Unix(), time.Hour)
}

// expectTrusted checks which of tokens Trusted takes (want: by token) and
// how many trusts alice has listed.
func expectTrusted(t *testing.T, m *Manager, listed int, want map[string]error) {
	t.Helper()
	for token, err := range want {
		if _, _, got := m.Trusted(context.Background(), token); !errors.Is(got, err) {
			t.Errorf("Trusted(%.12s…) = %v, want %v", token, got, err)
		}
	}
	if list, _ := m.TrustedBrowsers(context.Background(), "alice"); len(list) != listed {
		t.Errorf("%d trusts listed, want %d: %+v", len(list), listed, list)
	}
}

// TestAReTrustKeepsTheTrustsID (attack38 F1), on Badger and a real Redis:
// a trust made in place of the browser's (a code sign-in with "remember"
// in a trusted browser) keeps its ID, so the sessions, console invites
// and list row that named it name the new one, and end with it. The token
// it replaced, and a copy of it, no longer sign in; two made at once in
// its place (two tabs) leave one trust, the second taking the first's as
// it is (no token: TestTrustHeldTakesWhatACrossingSignInMade); an ID no
// longer listed (ended meanwhile) is not taken again, nor another made in
// its place. (Before, each re-trust took a new ID.)
func TestAReTrustKeepsTheTrustsID(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
		m, _ := gatesOn(t, st, &now)
		other, _ := retrust(t, m, &now, "")
		first, id := retrust(t, m, &now, "")
		again, same := retrust(t, m, &now, first)
		if same != id {
			t.Fatalf("the re-trust took ID %s, not its browser's %s", same, id)
		}
		expectTrusted(t, m, 2, map[string]error{other: nil, first: ErrNotTrusted, again: nil})

		// Two tabs: each replaces the trust the browser held.
		tab1, id1 := retrust(t, m, &now, again)
		tab2, id2 := retrust(t, m, &now, again)
		if id1 != id || id2 != id || tab2 != "" {
			t.Fatalf("two re-trusts at once: IDs %s and %s, want %s; the second's token %.12q, want none", id1, id2, id, tab2)
		}
		expectTrusted(t, m, 2, map[string]error{again: ErrNotTrusted, tab1: nil})

		// Ended meanwhile: none made, its ID not taken again.
		if err := m.Untrust(context.Background(), "alice", id); err != nil {
			t.Fatal(err)
		}
		if late, tb, err := retrustHeld(m, &now, tab1); !errors.Is(err, ErrNotTrusted) || late != "" || tb != nil {
			t.Errorf("a re-trust of an ended trust: %.12q, %+v, %v; want none made", late, tb, err)
		}
		expectTrusted(t, m, 1, map[string]error{tab1: ErrNotTrusted, other: nil})
	})
}

// TestAReTrustOfThePreviousReleasesTrust, on Badger and a real Redis: a
// trust as the previous release wrote it (its record, and one of the
// release before that with no issued time) signs in until its browser is
// re-trusted, which keeps its ID; then only the new token does.
func TestAReTrustOfThePreviousReleasesTrust(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
		m, _ := gatesOn(t, st, &now)
		made := now.Add(-time.Hour)
		at := func(tm time.Time) string { return tm.Format(time.RFC3339Nano) }
		record := fmt.Sprintf(`[{"id":"OLDTRUST00000001","browser":"Firefox unter Linux","created":%q,"expires":%q,"auth_time":%d,"amr":["sms"],"known":"K1","prefixed":true,"issued":%q,"device":""},`+
			`{"id":"OLDTRUST00000002","browser":"Ein Browser","created":%q,"expires":%q,"auth_time":%d,"amr":["sms"]}]`,
			at(made), at(made.Add(30*24*time.Hour)), made.Unix(), at(made.Truncate(time.Second)), at(made), at(made.Add(30*24*time.Hour)), made.Unix())
		if err := st.Put(context.Background(), trustedKey("example.com", "alice"), []byte(record), 31*24*time.Hour); err != nil {
			t.Fatal(err)
		}
		tokens := map[string]string{}
		for _, id := range []string{"OLDTRUST00000001", "OLDTRUST00000002"} {
			token, err := m.trustKeys().Sign(Claims{RegisteredClaims: m.trustKeys().NewClaimsAt("example.com", "alice", 30*24*time.Hour, made), SID: id, AuthTime: made.Unix()})
			if err != nil {
				t.Fatal(err)
			}
			tokens[id] = token
		}
		expectTrusted(t, m, 2, map[string]error{tokens["OLDTRUST00000001"]: nil, tokens["OLDTRUST00000002"]: nil})
		renewed := map[string]error{}
		for _, id := range []string{"OLDTRUST00000001", "OLDTRUST00000002"} {
			token, same := retrust(t, m, &now, tokens[id])
			if same != id {
				t.Errorf("the re-trust of %s took ID %s", id, same)
			}
			renewed[token], renewed[tokens[id]] = nil, ErrNotTrusted
		}
		expectTrusted(t, m, 2, renewed)
	})
}

// TestEndUnlistedReachesARetrustedBrowser (attack38 F1), on Badger and a
// real Redis: a session of alice's trusted browser is pushed off her list
// by 20 newer ones; the browser is then trusted again (a step-up with
// "remember") and signs in. The admin's end of the sessions pushed off
// the list ends their trust, so the browser's trust as renewed, and the
// session signed since by it. (Before, the re-trust's new ID was not the
// one the unlisted record named: both stayed.)
func TestEndUnlistedReachesARetrustedBrowser(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
		m, _ := gatesOn(t, st, &now)
		held, id := retrust(t, m, &now, "")
		list, _ := m.TrustedBrowsers(ctx, "alice")
		if _, _, err := m.IssueTrusted(ctx, Began{}, "alice", &list[0], Where{Trust: id}); err != nil {
			t.Fatal(err)
		}
		for range MaxListed {
			now = now.Add(time.Second)
			if _, _, err := m.IssueBegun(ctx, Began{}, "alice", []factor.AMR{factor.AMRSMS}, Where{}); err != nil {
				t.Fatal(err)
			}
		}
		if u, err := UnlistedSessions(ctx, st, "example.com", "alice", now); err != nil || u.Count != 1 || len(u.Trusts) != 1 {
			t.Fatalf("pushed off the list: %+v, %v; want the trust's session", u, err)
		}
		token, same := retrust(t, m, &now, held)
		list, _ = m.TrustedBrowsers(ctx, "alice")
		session, _, err := m.IssueTrusted(ctx, Began{}, "alice", &list[0], Where{Trust: same})
		if err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Second)
		if _, err := EndUnlisted(ctx, st, "example.com", "alice", now); err != nil {
			t.Fatal(err)
		}
		m.FlushCache()
		if m.Uncached(ctx, session) != nil {
			t.Error("the session the re-trusted browser signed after end-unlisted")
		}
		expectTrusted(t, m, 0, map[string]error{token: ErrNotTrusted})
	})
}
