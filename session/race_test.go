package session

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestRacingTrusts: a browser trusted while the user signs out everywhere
// never brings back a trust that the sign-out ended, and of a trust made
// while another is ended, both changes hold — on Badger and on a real
// Redis, in every interleaving of their reads of the user's trusts
// (storetest.Interleaver) and atOnce times at once. (With the trusts'
// Store.Update made a read then a write, every race in which both change
// the record loses a change, on both stores.)
func TestRacingTrusts(t *testing.T) {
	t.Parallel()
	raceOnBothStores(t, func(t *testing.T, m *Manager, il *storetest.Interleaver, now time.Time, lost map[string]int) []race {
		ctx := context.Background()
		users := 0
		trustFrom := func(ctx context.Context, user, known, browser string) error {
			_, _, err := m.TrustHeld(ctx, Began{}, user, "", known, time.Time{}, Where{Browser: browser}, "", nil, now.Unix(), time.Hour)
			return err
		}
		trust := func(ctx context.Context, user, browser string) error { return trustFrom(ctx, user, "", browser) }
		// A trust against a sign-out everywhere (as the devices page
		// does it: sessions revoked, then every trust ended).
		signOutVsTrust := func() storetest.Pair {
			users++
			user := fmt.Sprint("user", users)
			if err := trust(ctx, user, "old"); err != nil {
				t.Fatal(err)
			}
			var errA, errB error
			return storetest.Pair{Key: trustedKey("example.com", user),
				A: func(ctx context.Context) {
					if errA = m.RevokeUser(ctx, user); errA == nil {
						errA = UntrustAll(ctx, il, "example.com", user)
					}
				},
				B: func(ctx context.Context) { errB = trust(ctx, user, "new") },
				Check: func() {
					if errA != nil || errB != nil {
						t.Fatalf("%s: sign-out %v, trust %v", user, errA, errB)
					}
					list, err := m.TrustedBrowsers(ctx, user)
					if err != nil {
						t.Fatal(err)
					}
					for _, tb := range list {
						if tb.Browser == "old" {
							lost["a trust ended by a sign-out everywhere came back"]++
						}
					}
				}}
		}
		// A trust made while another is ended.
		untrustVsTrust := func() storetest.Pair {
			users++
			user := fmt.Sprint("user", users)
			if err := trust(ctx, user, "old"); err != nil {
				t.Fatal(err)
			}
			list, _ := m.TrustedBrowsers(ctx, user)
			var errA, errB error
			return storetest.Pair{Key: trustedKey("example.com", user),
				A: func(ctx context.Context) { errA = m.Untrust(ctx, user, list[0].ID) },
				B: func(ctx context.Context) { errB = trust(ctx, user, "new") },
				Check: func() {
					if errA != nil || errB != nil {
						t.Fatalf("%s: untrust %v, trust %v", user, errA, errB)
					}
					list, _ := m.TrustedBrowsers(ctx, user)
					if len(list) != 1 || list[0].Browser != "new" {
						lost["a trust or its ending lost to the other"]++
					}
				}}
		}
		// A sign-out in one browser (its trusts ended by the browser's
		// name, or none to end: nothing written) while another browser
		// of the user earns a trust: the sign-out's browser keeps none,
		// the other keeps its new one.
		browserSignOutVsTrust := func(ends bool) func() storetest.Pair {
			return func() storetest.Pair {
				users++
				user := fmt.Sprint("user", users)
				if ends {
					if err := trustFrom(ctx, user, "K1", "old"); err != nil {
						t.Fatal(err)
					}
				}
				var errA, errB error
				return storetest.Pair{Key: trustedKey("example.com", user),
					A: func(ctx context.Context) { _, errA = m.UntrustBrowser(ctx, user, []string{"K1"}) },
					B: func(ctx context.Context) { errB = trustFrom(ctx, user, "K2", "new") },
					Check: func() {
						if errA != nil || errB != nil {
							t.Fatalf("%s: sign-out %v, trust %v", user, errA, errB)
						}
						list, _ := m.TrustedBrowsers(ctx, user)
						if len(list) != 1 || list[0].Browser != "new" {
							lost["a browser's sign-out or another browser's trust lost to the other"]++
						}
					}}
			}
		}
		// The sign-out reads no trust: only the trust is held there.
		return []race{{signOutVsTrust, 1}, {untrustVsTrust, 2}, {browserSignOutVsTrust(true), 2}, {browserSignOutVsTrust(false), 2}}
	})
}

// raceOnBothStores runs, on Badger and on a real Redis, the races that
// races makes (runRaces) for a manager on the store seen through an
// Interleaver, at a time it keeps; its pairs' checks count in lost what a
// race lost.
func raceOnBothStores(t *testing.T, races func(t *testing.T, m *Manager, il *storetest.Interleaver, now time.Time, lost map[string]int) []race) {
	raceThrough(t, func(il *storetest.Interleaver) store.Store { return il }, races)
}

// raceThrough is raceOnBothStores with the manager's store seen through
// wrap (the Interleaver within).
func raceThrough(t *testing.T, wrap func(*storetest.Interleaver) store.Store, races func(t *testing.T, m *Manager, il *storetest.Interleaver, now time.Time, lost map[string]int) []race) {
	for name, st := range bothStores(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			il := &storetest.Interleaver{Store: st}
			now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
			m, err := NewManager(context.Background(), Config{Store: wrap(il), Realm: "example.com", Secret: []byte("a secret of thirty-two bytes, no less"),
				Alg: "HS256", Lifetime: time.Hour, Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			lost := map[string]int{}
			runRaces(t, il, lost, races(t, m, il, now, lost)...)
		})
	}
}

// race is one race of two changes to a record: its next pair, and how
// many interleavings it has at the least (fewer: the changes do not both
// read the record, and the interleaving proves nothing).
type race struct {
	next  func() storetest.Pair
	least int
}

// runRaces plays each race in every interleaving of its reads, then
// atOnce() times at once each; what the checks counted in lost fails the
// test.
func runRaces(t *testing.T, il *storetest.Interleaver, lost map[string]int, races ...race) {
	t.Helper()
	ctx := context.Background()
	runs := atOnce()
	interleavings := 0
	for i, r := range races {
		n := il.Interleave(t, r.next)
		if n < r.least {
			t.Fatalf("race %d: %d interleavings, want at least %d: the changes do not read the record", i+1, n, r.least)
		}
		interleavings += n
	}
	for range runs {
		for _, r := range races {
			p := r.next()
			both(func() { p.A(ctx) }, func() { p.B(ctx) })
			p.Check()
		}
	}
	if len(lost) > 0 {
		t.Errorf("in %d interleavings and %d runs at once of each race: %v", interleavings, runs, lost)
	}
}

// atOnce is how many times runRaces plays each race at once, after its
// interleavings: 10, 50 with SMSGATE_FULL=1. The interleavings find a
// lost change every time (TestAnEndRacingATrustedSignInEndsItsSession and
// TestRacingEndUnlisted failed in them alone without their fixes); the
// runs at once check real timing beside them, and at 50 they were two
// fifths of this package's CPU time.
func atOnce() int {
	if os.Getenv("SMSGATE_FULL") != "" {
		return 50
	}
	return 10
}

// both runs a and b at once.
func both(a, b func()) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, f := range []func(){a, b} {
		wg.Go(func() { <-start; f() })
	}
	close(start)
	wg.Wait()
}

// TestRevocationNeverMovesBack: a sign-out everywhere from an instance
// whose clock is behind does not bring back the sessions a later one (by
// another instance's clock) ended.
func TestRevocationNeverMovesBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	m, st := newManager(t, "HS256", &now)
	token, _ := m.Issue(ctx, "alice", []factor.AMR{factor.AMRSMS}, Where{})
	if err := RevokeUser(ctx, st, "example.com", "alice", now.Add(time.Minute), nil); err != nil {
		t.Fatal(err)
	}
	if err := RevokeUser(ctx, st, "example.com", "alice", now.Add(-time.Minute), nil); err != nil {
		t.Fatal(err)
	}
	if before, err := RevokedBefore(ctx, st, "example.com", "alice"); err != nil || !before.Equal(now.Add(time.Minute)) {
		t.Fatalf("revoked before %v, %v; want the later revocation", before, err)
	}
	if m.Check(ctx, token) != nil {
		t.Fatal("a session ended by the later revocation is back")
	}
}
