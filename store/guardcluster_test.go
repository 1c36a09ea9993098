package store_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestAGuardOnAClusterChecksBeforeItsWrite (guard37, the proof of
// SECURITY.md's residual): a change under a guard of four records, as
// session.Manager.LiveGuard reads them (the session's end, the user's,
// the trust's, the device's), whose write's key is in another slot than
// the records (no key shares a hash tag). The user's revocation is
// written, by another client, the moment the change's write is sent,
// after the guard's checks (a hook on the store's client forces that
// order). On a Redis server the checks are in the write's own script, so
// the change is refused (ErrGuardBroken) and nothing is written; on a
// 3-master Cluster the records are checked in turn before the write
// (checkThenClaim), so the change is written on a revoked user: the
// window is there, from the checks to the write. A write alone and a
// batch (store.Do) alike. The checks are one round trip, side by side,
// right before the write; before guard37 they were one a record, in turn
// (4 round trips). The test logs how long that window was.
func TestAGuardOnAClusterChecksBeforeItsWrite(t *testing.T) {
	t.Parallel()
	cluster := redistest.StartCluster(t)
	for name, addrs := range map[string][]string{"server": {redistest.Server(t)}, "cluster": cluster} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for _, batch := range []bool{false, true} {
				written, window := guardRacedOnRedis(t, addrs, batch)
				switch {
				case name == "server" && written:
					t.Errorf("a Redis server (batch %v): written on a user revoked after the check, before the write", batch)
				case name == "cluster" && !written:
					t.Errorf("a Cluster (batch %v): refused; SECURITY.md says the window is there", batch)
				case name == "cluster" && window.trips != 1:
					t.Errorf("a Cluster (batch %v): %d round trips from the guard's first check to the write, want 1 (its records read side by side)", batch, window.trips)
				case name == "cluster":
					t.Logf("a Cluster (batch %v): written on a user revoked between the check and the write; the checks went %v (%d round trip) before the write", batch, window.took, window.trips)
				}
			}
		})
	}
}

// guardRacedOnRedis runs TestAGuardOnAClusterChecksBeforeItsWrite's race
// once on the Redis at addrs: whether the change was written, and the
// time from the guard's first check to the write's first command.
func guardRacedOnRedis(t *testing.T, addrs []string, batch bool) (bool, window) {
	open := func() *store.Redis {
		s, closeRedis, err := store.OpenRedis(&store.Redis{Addresses: addrs})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = closeRedis() })
		return s.(*store.Redis)
	}
	s, other := open(), open()
	bg := context.Background()
	const realm = "r"
	user, change := store.Key("revoked-user", realm, "alice"), store.Key("device", realm, "alice")
	if batch {
		change = store.Key("device", realm, "alice", "batch")
	}
	records := []string{store.Key("revoked", realm, "s1"), user, store.Key("revoked-trust", realm, "t1"), store.Key("revoked-device", realm, "alice", "d1")}
	slot := func(key string) int64 {
		n, err := s.Client().Do(bg, "cluster", "keyslot", s.KeyPrefix+key).Int64()
		if err != nil {
			return 0 // a server: one slot for all
		}
		return n
	}
	if len(addrs) > 1 && slot(change) == slot(user) {
		t.Fatalf("%s and %s share a slot: pick other names", change, user)
	}
	var reads store.Batch
	var ops []*store.Op
	for _, k := range records {
		ops = append(ops, reads.Get(k))
	}
	if err := store.Do(bg, s, &reads); err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	g := store.NewGuard(ops...)

	hook := &atWrite{key: s.KeyPrefix + change, first: s.KeyPrefix + records[0], revoke: func() {
		if err := other.Put(bg, user, []byte(change), 0); err != nil { // a value of this run's own
			t.Error(err)
		}
	}}
	s.Client().AddHook(hook)
	ctx := store.Lasting(store.WithGuard(bg, g))
	var err error
	if batch {
		var b store.Batch
		put := b.Put(change, []byte("a phone"), 0)
		_ = store.Do(ctx, s, &b)
		err = put.Err
	} else {
		err = s.Put(ctx, change, []byte("a phone"), 0)
	}
	got, _ := other.Get(bg, change)
	if !hook.fired.Load() {
		t.Fatal("the write was never seen")
	}
	if written := got != nil; written != (err == nil) || !written && !errors.Is(err, store.ErrGuardBroken) {
		t.Fatalf("written %v, answered %v", written, err)
	}
	return got != nil, window{time.Duration(hook.wrote.Load() - hook.checked.Load()), hook.trips.Load()}
}

// window is how long the guard's checks went before the write: time, and
// round trips.
type window struct {
	took  time.Duration
	trips int64
}

// atWrite is a hook that calls revoke once, right before the first
// command naming key (the change's write) goes out, and notes when the
// first command naming first (the guard's first check) went, and the
// write.
type atWrite struct {
	key, first     string
	revoke         func()
	fired          atomic.Bool
	checked, wrote atomic.Int64
	trips          atomic.Int64 // from the first check to the write
}

func (h *atWrite) names(cmds []redis.Cmder, key string) bool {
	for _, c := range cmds {
		for _, a := range c.Args() {
			if s, ok := a.(string); ok && s == key {
				return true
			}
		}
	}
	return false
}

func (h *atWrite) before(cmds []redis.Cmder) {
	if h.names(cmds, h.first) {
		h.checked.CompareAndSwap(0, time.Now().UnixNano())
	}
	if h.checked.Load() != 0 && !h.fired.Load() && !h.names(cmds, h.key) {
		h.trips.Add(1)
	}
	if h.names(cmds, h.key) && h.fired.CompareAndSwap(false, true) {
		h.wrote.Store(time.Now().UnixNano())
		h.revoke()
	}
}

func (h *atWrite) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *atWrite) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { h.before([]redis.Cmder{cmd}); return next(ctx, cmd) }
}
func (h *atWrite) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { h.before(cmds); return next(ctx, cmds) }
}
