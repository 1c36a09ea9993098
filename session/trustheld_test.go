package session

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestTrustHeldTakesWhatACrossingSignInMade (trust39), on Badger and a
// real Redis: a second re-trust sent with the browser's cookie of before
// takes the trust the first renewed, as it is, with no token; a second
// first trust of the same browser (its known-browser name), begun before
// the first was made, takes it too, where a browser that took that
// answer since (trusted at another gate) makes its own; a re-trust whose
// trust ended meanwhile makes none. (The pages' side, through a real
// Caddy: TestTwoTabsTrustingOneBrowserLeaveItOneTrust,
// TestStopTrustingRacingAReTrustEndsWhatTheBrowserHolds.)
func TestTrustHeldTakesWhatACrossingSignInMade(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
		m, _ := gatesOn(t, st, &now)
		trust := func(user, held, known string, seen time.Time) (string, *TrustedBrowser, error) {
			now = now.Add(time.Minute)
			return m.TrustHeld(ctx, m.Begin(), user, held, known, seen, Where{Browser: "Firefox"}, "D1", []factor.AMR{factor.AMRSMS}, now.Unix(), time.Hour)
		}
		c0, x, _ := trust("alice", "", "K1", time.Time{})
		cA, a, _ := trust("alice", c0, "K1", time.Time{})
		cB, b, err := trust("alice", c0, "K1", time.Time{})
		if err != nil || cB != "" || b.ID != x.ID || b.Gen != 1 || a.ID != x.ID {
			t.Fatalf("the crossing re-trust: %q %+v %v; want no token, %s of generation 1", cB, b, err, x.ID)
		}
		expectTrusted(t, m, 1, map[string]error{c0: ErrNotTrusted, cA: nil})

		seen := now // bob's browser took an answer then
		cY, y, _ := trust("bob", "", "K2", seen)
		cZ, z, err := trust("bob", "", "K2", seen)
		if err != nil || cZ != "" || z.ID != y.ID {
			t.Fatalf("the second first trust of one browser: %q %+v %v; want no token, %s", cZ, z, err, y.ID)
		}
		if cW, w, err := trust("bob", "", "K2", y.Issued); err != nil || cW == "" || w.ID == y.ID {
			t.Fatalf("a trust at another gate, the first's answer taken: %q %+v %v; want one of its own", cW, w, err)
		}
		if _, err := EndTrust(ctx, st, "example.com", "bob", y.ID, now); err != nil {
			t.Fatal(err)
		}
		if cV, _, err := trust("bob", cY, "K2", seen); !errors.Is(err, ErrNotTrusted) || cV != "" {
			t.Fatalf("a re-trust of a trust ended meanwhile: %q %v; want none made", cV, err)
		}
		if list, _ := m.TrustedBrowsers(ctx, "bob"); len(list) != 1 {
			t.Errorf("bob's trusts: %+v; want the other gate's", list)
		}
	})
}
