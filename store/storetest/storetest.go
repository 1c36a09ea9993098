// Package storetest is the conformance suite every store.Store passes:
// the same tests run against Badger on disk and, later, a real Redis.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
)

// Opened is a store the suite runs on (closed at the end of the test that
// opened it), and what it takes to test that the store keeps its data.
type Opened struct {
	store.Store
	// Reopen opens the store's data again, as a restart does (Badger:
	// closes it and opens its folder; Redis: a new client of the server).
	Reopen func() store.Store
	// Sweep, for a store that forgets idle data it holds in memory
	// (Badger's windows), forgets what it would at now; nil for others.
	Sweep func(s store.Store, now time.Time)
}

// Run runs the suite against the stores open returns: one that serves most
// subtests (each has its own key prefix), and one of its own for each
// subtest that reopens it.
func Run(t *testing.T, open func(t *testing.T) Opened) {
	ctx := context.Background()
	s := open(t).Store
	key := func(t *testing.T, name string) string { return store.Key("test", t.Name(), name) }

	t.Run("GetMissing", func(t *testing.T) {
		if _, err := s.Get(ctx, key(t, "none")); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Get of a missing key: err = %v, want ErrNotFound", err)
		}
	})

	t.Run("PutGetDelete", func(t *testing.T) {
		k := key(t, "a")
		if err := s.Put(ctx, k, []byte("one"), 0); err != nil {
			t.Fatal(err)
		}
		if err := s.Put(ctx, k, []byte("two"), time.Hour); err != nil {
			t.Fatal(err)
		}
		got, err := s.Get(ctx, k)
		if err != nil || string(got) != "two" {
			t.Fatalf("Get = %q, %v; want two", got, err)
		}
		if err := s.Delete(ctx, k); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, k); err != nil {
			t.Fatalf("deleting a missing key: %v", err)
		}
		if _, err := s.Get(ctx, k); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Get after Delete: %v", err)
		}
	})

	t.Run("PutIfAbsent", func(t *testing.T) {
		k := key(t, "k")
		ok, err := s.PutIfAbsent(ctx, k, []byte("first"), 0)
		if err != nil || !ok {
			t.Fatalf("first PutIfAbsent = %v, %v", ok, err)
		}
		ok, err = s.PutIfAbsent(ctx, k, []byte("second"), 0)
		if err != nil || ok {
			t.Fatalf("second PutIfAbsent = %v, %v; want false", ok, err)
		}
		if got, _ := s.Get(ctx, k); string(got) != "first" {
			t.Fatalf("value = %q, want first", got)
		}
	})

	t.Run("PutIfAbsentRace", func(t *testing.T) {
		k := key(t, "k")
		var wg sync.WaitGroup
		wins := make(chan string, 16)
		for i := range 16 {
			wg.Go(func() {
				v := fmt.Sprint(i)
				if ok, err := s.PutIfAbsent(ctx, k, []byte(v), 0); err != nil {
					t.Error(err)
				} else if ok {
					wins <- v
				}
			})
		}
		wg.Wait()
		close(wins)
		var won []string
		for v := range wins {
			won = append(won, v)
		}
		got, _ := s.Get(ctx, k)
		if len(won) != 1 || won[0] != string(got) {
			t.Fatalf("winners %v, stored %q: want exactly one winner whose value is stored", won, got)
		}
	})

	t.Run("TakeOnce", func(t *testing.T) {
		k := key(t, "k")
		if err := s.Put(ctx, k, []byte("v"), time.Minute); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		got := 0
		for range 16 {
			wg.Go(func() {
				v, err := s.Take(ctx, k)
				switch {
				case err == nil:
					if !bytes.Equal(v, []byte("v")) {
						t.Errorf("Take = %q", v)
					}
					mu.Lock()
					got++
					mu.Unlock()
				case !errors.Is(err, store.ErrNotFound):
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if got != 1 {
			t.Fatalf("%d concurrent Takes got the value; want exactly 1", got)
		}
	})

	t.Run("IncrAtomic", func(t *testing.T) {
		k := key(t, "n")
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 25 {
					if _, err := s.Incr(ctx, k, time.Hour); err != nil {
						t.Error(err)
					}
				}
			})
		}
		wg.Wait()
		if n, err := s.Counter(ctx, k); err != nil || n != 200 {
			t.Fatalf("after 200 concurrent increments, Counter = %d, %v; want 200", n, err)
		}
		n, err := s.Incr(ctx, k, time.Hour)
		if err != nil || n != 201 {
			t.Fatalf("after 200 concurrent increments, Incr = %d, %v; want 201", n, err)
		}
		if n, err := s.Counter(ctx, key(t, "missing")); err != nil || n != 0 {
			t.Fatalf("Counter of a missing key = %d, %v; want 0", n, err)
		}
	})

	runUpdate(t, s, key)

	t.Run("Scan", func(t *testing.T) {
		want := map[string]string{}
		// Enough keys to land on every node of a cluster.
		for i, name := range []string{"a", "b", "c*", "d?", "e", "f", "g", "h", "i[", "j]", "k\\", "l"} {
			k := key(t, name)
			want[k] = fmt.Sprint(i)
			if err := s.Put(ctx, k, []byte(fmt.Sprint(i)), time.Hour); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Put(ctx, store.Key("test", t.Name()+"x", "outside"), []byte("no"), 0); err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		err := s.Scan(ctx, key(t, ""), func(k string, v []byte) error {
			got[k] = string(v)
			return nil
		})
		if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("Scan = %v, %v; want %v", got, err, want)
		}
	})

	t.Run("Batch", func(t *testing.T) {
		k := func(name string) string { return key(t, name) }
		now := time.Unix(1_800_000_000, 0)
		for name, v := range map[string]string{"old": "v", "taken": "t", "gone": "g"} {
			if err := s.Put(ctx, k(name), []byte(v), time.Hour); err != nil {
				t.Fatal(err)
			}
		}
		for range 4 {
			if _, err := s.Incr(ctx, k("n"), time.Hour); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Incr(ctx, k("counted"), time.Hour); err != nil {
				t.Fatal(err)
			}
		}
		if ok, _, err := s.Slide(ctx, k("full"), "a", 1, time.Hour, now); err != nil || !ok {
			t.Fatal(ok, err)
		}
		if ok, _, err := s.Slide(ctx, k("refund"), "a", 1, time.Hour, now); err != nil || !ok {
			t.Fatal(ok, err)
		}
		var b store.Batch
		get, miss := b.Get(k("old")), b.Get(k("none"))
		put := b.Put(k("new"), []byte("n"), time.Hour)
		take, takeMiss, del := b.Take(k("taken")), b.Take(k("never")), b.Delete(k("gone"))
		inc, fresh := b.Incr(k("n"), time.Hour), b.Incr(k("fresh"), time.Hour)
		count, noCount := b.Counter(k("counted")), b.Counter(k("uncounted"))
		in, out := b.Slide(k("empty"), "a", 1, time.Hour, now), b.Slide(k("full"), "b", 1, time.Hour, now.Add(time.Minute))
		refund := b.Unslide(k("refund"), "a")
		if err := store.Do(ctx, s, &b); err != nil {
			t.Fatal(err)
		}
		// Each as its method would answer.
		if string(get.Value) != "v" || get.Err != nil || !errors.Is(miss.Err, store.ErrNotFound) || put.Err != nil {
			t.Fatalf("get %q %v, missing %v, put %v", get.Value, get.Err, miss.Err, put.Err)
		}
		if string(take.Value) != "t" || !errors.Is(takeMiss.Err, store.ErrNotFound) || del.Err != nil || refund.Err != nil {
			t.Fatalf("take %q %v, take of a missing key %v, delete %v, unslide %v", take.Value, take.Err, takeMiss.Err, del.Err, refund.Err)
		}
		if inc.N != 5 || fresh.N != 1 || !in.OK || out.OK || out.Wait != 59*time.Minute {
			t.Fatalf("incr %d %d, slides %v %v (wait %v)", inc.N, fresh.N, in.OK, out.OK, out.Wait)
		}
		if count.N != 4 || count.Err != nil || noCount.N != 0 || noCount.Err != nil {
			t.Fatalf("counter %d %v, a missing counter %d %v", count.N, count.Err, noCount.N, noCount.Err)
		}
		if got, err := s.Get(ctx, k("new")); string(got) != "n" || err != nil {
			t.Fatalf("after the batch, new = %q, %v", got, err)
		}
		for _, gone := range []string{"taken", "gone"} {
			if _, err := s.Get(ctx, k(gone)); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("after the batch, %s: %v", gone, err)
			}
		}
		if ok, _, err := s.Slide(ctx, k("refund"), "b", 1, time.Hour, now.Add(time.Minute)); err != nil || !ok {
			t.Fatalf("after a refund in a batch, the window is still full: %v %v", ok, err)
		}
		if err := store.Do(ctx, s, &store.Batch{}); err != nil {
			t.Fatalf("an empty batch: %v", err)
		}
		var twice store.Batch
		twice.Get(k("old"))
		twice.Delete(k("old"))
		if err := store.Do(ctx, s, &twice); err == nil {
			t.Fatal("a batch naming one key twice ran")
		}
	})

	t.Run("BatchSwap", func(t *testing.T) {
		k := func(name string) string { return key(t, name) }
		if err := s.Put(ctx, k("same"), []byte("a"), time.Hour); err != nil {
			t.Fatal(err)
		}
		if err := s.Put(ctx, k("changed"), []byte("a"), time.Hour); err != nil {
			t.Fatal(err)
		}
		if err := s.Put(ctx, k("came"), []byte("a"), time.Hour); err != nil {
			t.Fatal(err)
		}
		var reads store.Batch
		same, changed, none, came := reads.Get(k("same")), reads.Get(k("changed")), reads.Get(k("none")), reads.Get(k("came"))
		if err := store.Do(ctx, s, &reads); err != nil {
			t.Fatal(err)
		}
		// Meanwhile, another writer: one record changed, one deleted.
		if err := s.Put(ctx, k("changed"), []byte("b"), time.Hour); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, k("came")); err != nil {
			t.Fatal(err)
		}
		var b store.Batch
		swaps := []*store.Op{b.Swap(k("same"), same, []byte("x"), time.Hour), b.Swap(k("changed"), changed, []byte("x"), time.Hour),
			b.Swap(k("none"), none, []byte("x"), time.Hour), b.Swap(k("came"), came, []byte("x"), time.Hour)}
		if err := store.Do(ctx, s, &b); err != nil {
			t.Fatal(err)
		}
		for i, want := range []struct {
			name string
			ok   bool
			now  string
		}{{"same", true, "x"}, {"changed", false, "b"}, {"none", true, "x"}, {"came", false, ""}} {
			got, _ := s.Get(ctx, k(want.name))
			if swaps[i].OK != want.ok || swaps[i].Err != nil || string(got) != want.now {
				t.Errorf("swap of %s: wrote %v (%v), the record is %q; want %v, %q", want.name, swaps[i].OK, swaps[i].Err, got, want.ok, want.now)
			}
		}
	})

	t.Run("Claim", func(t *testing.T) { claim(t, s, key) })
	// A store that claims nothing itself (a wrapper) claims in turn.
	t.Run("ClaimInTurn", func(t *testing.T) { claim(t, struct{ store.Store }{s}, key) })

	t.Run("BatchSwapDeletes", func(t *testing.T) { swapDeletes(ctx, t, s, func(name string) string { return key(t, name) }) })

	t.Run("CountSwapped", func(t *testing.T) { countSwapped(ctx, t, s, func(name string) string { return key(t, name) }) })

	t.Run("SlidingWindow", func(t *testing.T) { slidingWindow(t, s, func(name string) string { return key(t, name) }) })

	t.Run("WindowsOfTwoSpans", func(t *testing.T) { windowsOfTwoSpans(t, s, key(t, "w")) })
	t.Run("WindowReadsWithoutCounting", func(t *testing.T) { windowReads(t, s, key(t, "w")) })
	t.Run("AShortWindowFirstLastsForTheLongOne", func(t *testing.T) {
		t.Parallel() // it waits a second for real expiries; the others need not
		if testing.Short() {
			t.Skip("waits for a real expiry")
		}
		shortThenLong(t, open(t), func(name string) string { return key(t, name) })
	})

	t.Run("ClearWindowEmptiesAWindow", func(t *testing.T) { clearWindowEmptiesAWindow(t, open(t), key(t, "w")) })
	t.Run("ClearWindowRacingSlides", func(t *testing.T) { clearWindowRacingSlides(t, open(t), key(t, "w")) })

	t.Run("SlotsOfOneWindow", func(t *testing.T) { slotsOfOneWindow(t, s, key(t, "w"), key(t, "other")) })

	t.Run("Expiry", func(t *testing.T) {
		t.Parallel() // it waits a second for real expiries; the others need not
		if testing.Short() {
			t.Skip("waits for a real expiry")
		}
		rec, ctr, upd := key(t, "rec"), key(t, "ctr"), key(t, "upd")
		if err := s.Put(ctx, rec, []byte("v"), time.Second); err != nil {
			t.Fatal(err)
		}
		if err := s.Update(ctx, upd, func([]byte, bool) ([]byte, time.Duration, error) { return []byte("v"), time.Second, nil }); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Incr(ctx, ctr, time.Second); err != nil {
			t.Fatal(err)
		}
		// A later increment must not extend the window.
		if _, err := s.Incr(ctx, ctr, time.Hour); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			_, err := s.Get(ctx, rec)
			n, _ := s.Get(ctx, ctr)
			_, errUpd := s.Get(ctx, upd)
			if errors.Is(err, store.ErrNotFound) && n == nil && errors.Is(errUpd, store.ErrNotFound) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("records with a 1s TTL still there after 5s")
			}
			time.Sleep(100 * time.Millisecond)
		}
		if n, err := s.Incr(ctx, ctr, time.Hour); err != nil || n != 1 {
			t.Fatalf("Incr after expiry = %d, %v; want a new window at 1", n, err)
		}
	})
}
