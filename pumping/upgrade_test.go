package pumping_test

import (
	"context"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/pumping"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

const realm, e164, numberID = "example.com", "+447400123456", "number-id"

// The previous release's records of a number's codes unused in a row and
// of those given back, as it named them (and still reads them).
var (
	unusedKey  = store.Key("pumping", realm, "unused", numberID)
	oldBackKey = store.Key("pumping", realm, "unused-back", numberID)
)

// onStores runs test on a Badger store and on a Redis server's, in
// parallel subtests, with a guard on each.
func onStores(t *testing.T, test func(t *testing.T, g *pumping.Guard)) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, s store.Store) {
		now := time.Unix(1_800_000_000, 0)
		test(t, &pumping.Guard{Settings: pumping.Defaults, Store: s, Now: func() time.Time { return now }})
	})
}

// send is a send to the enrolled number as the guard sees it: watched,
// counted, and given back where it was not made (the gateway sent
// nothing).
func send(t *testing.T, g *pumping.Guard, made bool) {
	t.Helper()
	ctx := context.Background()
	var first, second store.Batch
	w := g.Watch(&first, realm, e164, numberID, true)
	if err := store.Do(ctx, g.Store, &first); err != nil {
		t.Fatal(err)
	}
	w.Count(&second, false)
	if err := store.Do(ctx, g.Store, &second); err != nil {
		t.Fatal(err)
	}
	if !made {
		var back store.Batch
		w.GiveBack(&back)
		if err := store.Do(ctx, g.Store, &back); err != nil {
			t.Fatal(err)
		}
	}
}

// unused is the number's codes unused in a row as this release counts
// them, and as the previous release did: its count less the previous
// release's record of those given back, none below zero.
func unused(t *testing.T, g *pumping.Guard) (now, previous int64) {
	t.Helper()
	ctx := context.Background()
	_, now, err := g.Counts(ctx, realm, e164, numberID)
	if err != nil {
		t.Fatal(err)
	}
	n, err := g.Store.Counter(ctx, unusedKey)
	if err != nil {
		t.Fatal(err)
	}
	back, err := g.Store.Counter(ctx, oldBackKey)
	if err != nil {
		t.Fatal(err)
	}
	return now, max(n-back, 0)
}

// TestThePreviousReleaseReadsNoMark: a number's counts given back, once
// a send found their window of unused codes ended and forgot them under a
// new mark (Watch.Count), are where the previous release does not read
// them: going back a release, or an instance of it on the same store
// during a rolling upgrade, counts the number's two codes unused as this
// release does (or more: never fewer). Before, the marked record was the
// previous release's own, which read the mark as ~2³² codes given back
// and the number's unused codes as none: an enrolled number in a paused
// place kept getting codes until one was used or 30 days passed.
func TestThePreviousReleaseReadsNoMark(t *testing.T) {
	onStores(t, func(t *testing.T, g *pumping.Guard) {
		send(t, g, false) // one given back
		if err := g.Store.Delete(context.Background(), unusedKey); err != nil {
			t.Fatal(err) // the window of unused codes ends, as its expiry would
		}
		send(t, g, true) // finds it ended: forgets what was given back, under a mark
		send(t, g, true)
		if now, previous := unused(t, g); now != 2 || previous != 2 {
			t.Fatalf("codes unused: %d here, %d by the previous release; want 2 and 2", now, previous)
		}
	})
}

// TestAnUpgradeReadsThePreviousReleasesCounts: a store the previous
// release wrote (three codes unused, one of them given back, under its
// key), or an instance of it still writes beside this one, is read as it
// counted: two unused, and one fewer for each it gives back. Once a send
// finds the window of unused codes ended, the previous release's count
// given back goes with it: it does not hide new codes unused.
func TestAnUpgradeReadsThePreviousReleasesCounts(t *testing.T) {
	onStores(t, func(t *testing.T, g *pumping.Guard) {
		ctx := context.Background()
		for _, key := range []string{unusedKey, unusedKey, unusedKey, oldBackKey} {
			if _, err := g.Store.Incr(ctx, key, time.Hour); err != nil {
				t.Fatal(err)
			}
		}
		if now, _ := unused(t, g); now != 2 {
			t.Fatalf("%d codes unused after the upgrade; want 2", now)
		}
		send(t, g, true)
		if _, err := g.Store.Incr(ctx, oldBackKey, time.Hour); err != nil {
			t.Fatal(err) // the previous release's instance gives one back
		}
		if now, previous := unused(t, g); now != 2 || previous != 2 {
			t.Fatalf("codes unused: %d here, %d by the previous release; want 2 and 2", now, previous)
		}
		if err := g.Store.Delete(ctx, unusedKey); err != nil {
			t.Fatal(err)
		}
		send(t, g, true)
		if now, previous := unused(t, g); now != 1 || previous != 1 {
			t.Fatalf("codes unused in a new window: %d here, %d by the previous release; want 1 and 1", now, previous)
		}
	})
}
