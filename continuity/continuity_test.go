package continuity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

var ctx = context.Background()

// gate opens a watch for a gate whose memory lives in dir; identity names
// the store (each test its own, as two stores are).
func gate(t *testing.T, st store.Store, dir, identity string, users bool) (*Watch, Change) {
	t.Helper()
	w, ch, err := Open(ctx, st, Options{Identity: identity, Dir: dir,
		Probe: func(context.Context) (bool, error) { return users, nil }})
	if err != nil {
		t.Fatal(err)
	}
	return w, ch
}

func badger(t *testing.T) store.Store {
	t.Helper()
	st := storetest.Badger(t)
	return st
}

func wipe(t *testing.T, st store.Store) {
	t.Helper()
	var keys []string
	_ = st.Scan(ctx, "", func(k string, _ []byte) error { keys = append(keys, k); return nil })
	for _, k := range keys {
		if err := st.Delete(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
}

// forget drops what this process remembers of identity, as a restart does.
func forget(identity string) { memories.Delete(fileKey(identity)) }

// stores counts the stores the tests name (storeID).
var stores atomic.Int64

// storeID names the test's store, a new one each run: a test run again
// (-count) meets a new store, not what this process remembers of the last
// run's.
func storeID(t *testing.T) string { return fmt.Sprint(t.Name(), " ", stores.Add(1)) }

// TestWipeFreezes: a store that held users comes back empty. The gate that
// saw them freezes it — also after its own restart, from its file — and a
// gate that remembers nothing sees the freeze in the store.
func TestWipeFreezes(t *testing.T) {
	st, dir, id := badger(t), t.TempDir(), storeID(t)
	a, ch := gate(t, st, dir, id, true)
	if ch.Frozen != nil || a.Frozen() != nil {
		t.Fatal("a store with users, first seen, is frozen")
	}
	wipe(t, st)
	forget(id) // Caddy restarted too: only the file remembers
	a, ch = gate(t, st, dir, id, false)
	if ch.Frozen == nil || ch.Frozen.Reason != Wiped || !ch.Renewed {
		t.Fatalf("after a wipe and a restart: %+v", ch)
	}
	// Noticed once, then it stays frozen without news.
	if ch, err := a.Check(ctx); err != nil || ch.Frozen != nil || a.Frozen() == nil {
		t.Fatalf("checked again: %+v %v, frozen %v", ch, err, a.Frozen())
	}
	stranger, ch := gate(t, st, t.TempDir(), id+" elsewhere", false)
	if ch.Frozen == nil || stranger.Frozen() == nil {
		t.Fatal("a gate that remembers nothing does not see the freeze")
	}

	// An admin accepts: every gate goes on, with a new epoch.
	if _, err := stranger.Accept(ctx, "accept-store", false); err != nil {
		t.Fatal(err)
	}
	if ch, err := a.Check(ctx); err != nil || a.Frozen() != nil || ch.Accepted != "accept-store" || !ch.Renewed {
		t.Fatalf("after the admin accepted: %+v %v, frozen %v", ch, err, a.Frozen())
	}
	if _, err := a.Accept(ctx, "accept-store", false); !errors.Is(err, ErrNotFrozen) {
		t.Fatalf("accepting a store that is not frozen: %v", err)
	}
	// The accepted epoch held users: a second wipe freezes it again.
	wipe(t, st)
	if ch, err := a.Check(ctx); err != nil || ch.Frozen == nil {
		t.Fatalf("a second wipe: %+v %v", ch, err)
	}
}

// TestReplacedStoreFreezes: after a wipe, a new instance (no memory) makes
// a new epoch before the gate that saw users looks; that gate freezes it,
// and the new instance sees the freeze at its next check.
func TestReplacedStoreFreezes(t *testing.T) {
	st, id := badger(t), storeID(t)
	a, _ := gate(t, st, t.TempDir(), id, true)
	wipe(t, st)
	c, ch := gate(t, st, t.TempDir(), id+" new instance", false)
	if ch.Frozen != nil {
		t.Fatal("a new instance cannot know the store was wiped")
	}
	if ch, err := a.Check(ctx); err != nil || ch.Frozen == nil || ch.Frozen.Reason != Replaced {
		t.Fatalf("the gate that saw users: %+v %v", ch, err)
	}
	if ch, err := c.Check(ctx); err != nil || ch.Frozen == nil {
		t.Fatalf("the new instance: %+v %v", ch, err)
	}
}

// TestNoUsersNoFreeze: a store that never held users may be lost without
// a freeze; once a user enrolls (SawUsers), it may not.
func TestNoUsersNoFreeze(t *testing.T) {
	st, dir, id := badger(t), t.TempDir(), storeID(t)
	a, _ := gate(t, st, dir, id, false)
	wipe(t, st)
	ch, err := a.Check(ctx)
	if err != nil || ch.Frozen != nil || !ch.Renewed {
		t.Fatalf("an empty store lost: %+v %v", ch, err)
	}
	if err := a.SawUsers(ctx); err != nil {
		t.Fatal(err)
	}
	b, _ := gate(t, st, t.TempDir(), id+" other", false)
	wipe(t, st)
	if ch, err := a.Check(ctx); err != nil || ch.Frozen == nil {
		t.Fatalf("lost after a user enrolled: %+v %v", ch, err)
	}
	if ch, err := b.Check(ctx); err != nil || ch.Frozen == nil {
		t.Fatalf("another gate: %+v %v", ch, err)
	}
}

// TestMarkerFile: the memory is a file of its own in the data directory,
// written atomically, and a folder that cannot be written is reported, not
// fatal.
func TestMarkerFile(t *testing.T) {
	st, dir, id := badger(t), t.TempDir(), storeID(t)
	w, _ := gate(t, st, dir, id, true)
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) != 1 || w.MarkerError() != nil {
		t.Fatalf("memory files %v, error %v", files, w.MarkerError())
	}
	blocked := filepath.Join(t.TempDir(), "file")
	_ = os.WriteFile(blocked, nil, 0o600)
	w, _ = gate(t, st, filepath.Join(blocked, "dir"), id+" blocked", true)
	if w.MarkerError() == nil {
		t.Fatal("an unwritable memory folder is not reported")
	}
}

// TestRedisRestarts: a real redis-server restarted without persistence is
// a wipe (frozen); one with an append-only file comes back whole.
func TestRedisRestarts(t *testing.T) {
	t.Parallel()
	for _, persistent := range []bool{false, true} {
		r := redistest.Start(t)
		if persistent {
			r = redistest.Persistent(t)
		}
		st, closeStore, err := store.OpenRedis(&store.Redis{Addresses: []string{r.Addr}})
		if err != nil {
			t.Fatal(err)
		}
		id := t.Name() + r.Addr
		w, _ := gate(t, st, t.TempDir(), id, true)
		r.Restart()
		deadline := time.Now().Add(10 * time.Second)
		var ch Change
		for {
			if ch, err = w.Check(ctx); err == nil || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond) // the client reconnects
		}
		if err != nil {
			t.Fatal(err)
		}
		if frozen := ch.Frozen != nil; frozen == persistent {
			t.Errorf("persistent %v: frozen after a restart = %v", persistent, frozen)
		}
		_ = closeStore()
	}
}

// failingWrites is a store whose updates fail while fail is set.
type failingWrites struct {
	store.Store
	fail bool
}

func (s *failingWrites) Update(ctx context.Context, key string, change func([]byte, bool) ([]byte, time.Duration, error)) error {
	if s.fail {
		return errors.New("the store did not take the write")
	}
	return s.Store.Update(ctx, key, change)
}

// TestAnEvictionSeenWhenTheFreezeCouldNotBeWrittenFreezesLater: keys
// were evicted from a store that holds users, and the freeze could not be
// written at that look (a store that answers a read but refuses the
// write). The next look, the count unchanged since, must still freeze it:
// the evictions happened, and no later count tells of them again.
func TestAnEvictionSeenWhenTheFreezeCouldNotBeWrittenFreezesLater(t *testing.T) {
	st := &failingWrites{Store: badger(t)}
	evicted := int64(0)
	w, _, err := Open(ctx, st, Options{Identity: storeID(t), Dir: t.TempDir(),
		Probe:   func(context.Context) (bool, error) { return true, nil },
		Evicted: func(context.Context) (int64, error) { return evicted, nil }})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.SawUsers(ctx); err != nil {
		t.Fatal(err)
	}
	evicted, st.fail = 3, true
	if _, err := w.Check(ctx); err == nil {
		t.Fatal("a freeze that could not be written answered no error")
	}
	st.fail = false
	if ch, err := w.Check(ctx); err != nil || ch.Frozen == nil || ch.Frozen.Reason != Evicted {
		t.Fatalf("the look after the failed freeze: %+v %v", ch, err)
	}
}

// TestAFreezeOutlivesAnotherGatesFirstUsers: two gates on one store that
// held no users yet; one records the first users (SawUsers), then sees
// keys evicted and freezes the store; the other, whose last look still
// found no users, records users of its own (a first enrollment there)
// before its next look. The freeze must stand: the evicted keys may have
// been a user's devices or revocations. (Before, the second gate wrote
// back the record as it had last read it, with users and without the
// freeze: both gates then went on unfrozen.)
func TestAFreezeOutlivesAnotherGatesFirstUsers(t *testing.T) {
	st := badger(t)
	evicted := int64(0)
	a, _, err := Open(ctx, st, Options{Identity: storeID(t), Dir: t.TempDir(),
		Evicted: func(context.Context) (int64, error) { return evicted, nil }})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := gate(t, st, t.TempDir(), storeID(t), false)
	if err := a.SawUsers(ctx); err != nil {
		t.Fatal(err)
	}
	evicted = 3
	if ch, err := a.Check(ctx); err != nil || ch.Frozen == nil || ch.Frozen.Reason != Evicted {
		t.Fatalf("the look after the evictions: %+v %v", ch, err)
	}
	if err := b.SawUsers(ctx); err != nil {
		t.Fatal(err)
	}
	for name, w := range map[string]*Watch{"the gate that froze it": a, "the other gate": b} {
		if _, err := w.Check(ctx); err != nil || w.Frozen() == nil {
			t.Errorf("%s, at its next look: frozen %v (%v)", name, w.Frozen(), err)
		}
	}
}

// TestAFirstUserInAnEpochMadeMeanwhile: a gate whose store held no users
// sees its first one enroll after the store was emptied and another
// instance made a new epoch (or none yet), before its own next look. That
// look goes on with the new epoch, unfrozen, and the epoch holds users
// from then on: a wipe now freezes it. (Before, the gate remembered users
// under the old epoch's ID while writing none: its next look froze the
// store as replaced.)
func TestAFirstUserInAnEpochMadeMeanwhile(t *testing.T) {
	for _, made := range []bool{true, false} {
		st, id := badger(t), storeID(t)
		a, _ := gate(t, st, t.TempDir(), id, false)
		wipe(t, st)
		if made {
			gate(t, st, t.TempDir(), id+" new instance", false)
		}
		if err := a.SawUsers(ctx); err != nil {
			t.Fatal(err)
		}
		a.probe = func(context.Context) (bool, error) { return true, nil } // the user enrolled
		if ch, err := a.Check(ctx); err != nil || ch.Frozen != nil || !ch.Renewed {
			t.Fatalf("new epoch made %v: the first look after the user enrolled: %+v %v", made, ch, err)
		}
		rec, _, err := a.read(ctx)
		if err != nil || rec == nil || !rec.Users {
			t.Fatalf("new epoch made %v: the epoch's record: %+v %v", made, rec, err)
		}
		wipe(t, st)
		if ch, err := a.Check(ctx); err != nil || ch.Frozen == nil {
			t.Fatalf("new epoch made %v: a wipe after the user enrolled: %+v %v", made, ch, err)
		}
	}
}

// freezesFirst is a store on which another gate freezes the store for
// evictions right before this gate's first write of the epoch record.
type freezesFirst struct {
	store.Store
	once sync.Once
	t    *testing.T
}

func (f *freezesFirst) Update(ctx context.Context, key string, change func([]byte, bool) ([]byte, time.Duration, error)) error {
	if key == Key {
		f.once.Do(func() {
			raw, _ := json.Marshal(&Record{ID: "other", Users: true, Frozen: &Freeze{Since: time.Now().UTC(), Reason: Evicted}})
			if err := f.Store.Put(ctx, Key, raw, 0); err != nil {
				f.t.Fatal(err)
			}
		})
	}
	return f.Store.Update(ctx, key, change)
}

// TestAnAcceptLeavesAFreezeMadeMeanwhile: an admin accepts a wiped store
// while another gate, seeing evictions, freezes it anew between the
// accept's read and its write: the accept is refused (ErrChanged) and the
// new freeze stands. (Before, the accept wrote over it: the eviction
// freeze vanished unseen.)
func TestAnAcceptLeavesAFreezeMadeMeanwhile(t *testing.T) {
	st, dir, id := badger(t), t.TempDir(), storeID(t)
	gate(t, st, dir, id, true)
	wipe(t, st)
	forget(id)
	if _, ch := gate(t, st, dir, id, false); ch.Frozen == nil {
		t.Fatal("the wiped store is not frozen")
	}
	admin, _ := gate(t, &freezesFirst{Store: st, t: t}, t.TempDir(), id+" admin", false)
	if _, err := admin.Accept(ctx, "accept-store", false); !errors.Is(err, ErrChanged) {
		t.Fatalf("the accept over a freeze made meanwhile: %v; want ErrChanged", err)
	}
	raw, err := st.Get(ctx, Key)
	if err != nil {
		t.Fatal(err)
	}
	if rec, err := Decode(raw); err != nil || rec.Frozen == nil || rec.Frozen.Reason != Evicted {
		t.Fatalf("the record after the accept: %+v %v; want the eviction freeze", rec, err)
	}
}
