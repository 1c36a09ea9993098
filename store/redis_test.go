package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/redis/go-redis/v9"
	"github.com/smsgate/caddy-smsgate/internal/harness"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// openRedis returns an opener of stores on the Redis that cfg describes.
func openRedis(cfg store.Redis) func(t *testing.T) store.Store {
	return func(t *testing.T) store.Store {
		cfg := cfg
		cfg.KeyPrefix = "test:"
		s, closeFn, err := store.OpenRedis(&cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = closeFn() })
		return s
	}
}

// conformRedis is the conformance suite's opener of the Redis that cfg
// describes (reopened: a new client of it).
func conformRedis(cfg store.Redis) func(t *testing.T) storetest.Opened {
	return func(t *testing.T) storetest.Opened {
		open := func() store.Store { return openRedis(cfg)(t) }
		return storetest.Opened{Store: open(), Reopen: open}
	}
}

func TestRedisConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, conformRedis(store.Redis{Addresses: []string{redistest.Server(t)}}))
}

// TestRedisSentinelConformance: the same suite through Sentinel (the
// client asks the sentinels for the master).
func TestRedisSentinelConformance(t *testing.T) {
	t.Parallel()
	s := redistest.StartSentinelToldOnly(t)
	storetest.Run(t, conformRedis(store.Redis{Addresses: s.Sentinels, MasterName: redistest.MasterName}))
}

// TestRedisClusterConformance: the same suite on a three-master cluster,
// given all nodes or just one of them (with cluster).
func TestRedisClusterConformance(t *testing.T) {
	t.Parallel()
	nodes := redistest.StartCluster(t)
	t.Run("AllNodes", func(t *testing.T) {
		t.Parallel()
		storetest.Run(t, conformRedis(store.Redis{Addresses: nodes}))
	})
	t.Run("OneSeed", func(t *testing.T) {
		t.Parallel()
		storetest.Run(t, conformRedis(store.Redis{Addresses: nodes[:1], Cluster: true}))
	})
	t.Run("ASplitClaimThatFailsKeepsNothing", func(t *testing.T) {
		t.Parallel()
		aSplitClaimThatFailsKeepsNothing(t, openRedis(store.Redis{Addresses: nodes})(t))
	})
}

// aSplitClaimThatFailsKeepsNothing: a claim over two slots of a Cluster
// (its swaps side by side) whose swap of one record fails — the server
// refuses it: the record is no string (WRONGTYPE) — gives back the
// record it won, as a claim made in turn does, and answers the error
// (before, it kept it: only its caller's take-back, where it made one,
// undid it).
func aSplitClaimThatFailsKeepsNothing(t *testing.T, s store.Store) {
	ctx, c := context.Background(), s.(*store.Redis).Client()
	won, fails := "won", "fails"
	for i := 0; store.SlotOf("test:"+won) == store.SlotOf("test:"+fails); i++ {
		fails = fmt.Sprint("fails", i)
	}
	if err := c.RPush(ctx, "test:"+fails, "not a string").Err(); err != nil {
		t.Fatal(err)
	}
	var reads store.Batch
	a, b := reads.Get(won), reads.Get(fails)
	_ = store.Do(ctx, s, &reads) // fails's read fails too: read as none
	var claim store.Batch
	op := claim.Claim(store.Swap{Key: won, Read: a, Value: []byte("claimed"), TTL: time.Hour}, store.Swap{Key: fails, Read: b, Value: []byte("claimed"), TTL: time.Hour})
	if err := store.Do(ctx, s, &claim); err == nil || op.OK || !strings.Contains(fmt.Sprint(op.Err), "WRONGTYPE") {
		t.Fatalf("a claim one of whose swaps failed: %v %v %v; want the server's error", op.OK, op.Err, err)
	}
	if v, err := s.Get(ctx, won); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the record the failed claim won holds %q (%v); want it given back (none)", v, err)
	}
}

func TestRedisRefusesABadAddress(t *testing.T) {
	t.Parallel()
	if _, _, err := store.OpenRedis(&store.Redis{Addresses: []string{"127.0.0.1:1"}}); err == nil {
		t.Fatal("a store with no server behind it provisioned")
	}
}

// TestRedisBatchReloadsScripts: a batch sends scripts by hash; a server
// that forgot them (a restart, a failover, SCRIPT FLUSH) gets their text.
func TestRedisBatchReloadsScripts(t *testing.T) {
	t.Parallel()
	for name, cfg := range map[string]store.Redis{
		"single":  {Addresses: []string{redistest.Server(t)}},
		"cluster": {Addresses: redistest.StartCluster(t)},
	} {
		t.Run(name, func(t *testing.T) {
			s, closeFn, err := store.OpenRedis(&cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer closeFn()
			ctx := context.Background()
			for round := range 2 {
				flush := s.(*store.Redis).Client().ScriptFlush(ctx).Err()
				if c, ok := s.(*store.Redis).Client().(*redis.ClusterClient); ok {
					flush = c.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error { return n.ScriptFlush(ctx).Err() })
				}
				if flush != nil {
					t.Fatal(flush)
				}
				var b store.Batch
				var counts []*store.Op
				for i := range 6 { // keys on every node
					counts = append(counts, b.Incr(fmt.Sprintf("reload/%s/%d", name, i), time.Hour))
				}
				w := b.Slide("reload/"+name+"/w", fmt.Sprint(round), 5, time.Hour, time.Now())
				if err := store.Do(ctx, s, &b); err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
				for _, c := range counts {
					if c.N != int64(round+1) {
						t.Fatalf("round %d: count %d", round, c.N)
					}
				}
				if !w.OK {
					t.Fatalf("round %d: slide refused", round)
				}
			}
		})
	}
}

// TestRedisSameServerIsOneStore: two gates on one Redis load a *Redis
// each; they are one store (a revocation made through one reaches the
// other's cache at once), and another key prefix or database is not.
func TestRedisSameServerIsOneStore(t *testing.T) {
	t.Parallel()
	addr := redistest.Server(t)
	open := func(r store.Redis) store.Store {
		s, closeFn, err := store.OpenRedis(&r)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = closeFn() })
		return s
	}
	a := open(store.Redis{Addresses: []string{addr}})
	if b := open(store.Redis{Addresses: []string{addr}, KeyPrefix: "smsgate:"}); a == b || !store.Same(a, b) {
		t.Error("two modules on one server, database and prefix are not one store")
	}
	if b := open(store.Redis{Addresses: []string{addr}, KeyPrefix: "other:"}); store.Same(a, b) {
		t.Error("another key prefix is the same store")
	}
	if b := open(store.Redis{Addresses: []string{addr}, DB: 1}); store.Same(a, b) {
		t.Error("another database is the same store")
	}
}

// TestRedisProvisionFailureCleansUpQuietly: a Redis that does not answer
// is no error at Provision, which dials nobody (`caddy validate` runs it),
// and fails its opening (the config's start) with the reason alone. Caddy
// runs a module's Cleanup after a failed load; that must not close the
// client the failed opening already closed (before: "…; additionally,
// cleanup: redis: client is closed"), and a second Cleanup is as quiet.
func TestRedisProvisionFailureCleansUpQuietly(t *testing.T) {
	t.Parallel()
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	nobody := fmt.Sprintf(`{"addresses":["127.0.0.1:%d"]}`, harness.Port(t)) // nothing listens there
	mod, err := ctx.LoadModuleByID("smsgate.stores.redis", []byte(nobody))
	if err != nil {
		t.Fatalf("provisioning a Redis store nobody answers: %v", err)
	}
	err = store.Open(ctx, mod.(store.Store))
	if err == nil || !strings.Contains(err.Error(), "redis store at") {
		t.Fatalf("opening a Redis store nobody answers: %v", err)
	}
	// Opened again, it fails again, its connections closed: no panic on
	// the client failed() let go (review34 R2).
	if err := store.Open(ctx, mod.(store.Store)); err == nil {
		t.Error("a second Open after a failed one says the store is open")
	}
	for i := range 2 {
		if err := mod.(caddy.CleanerUpper).Cleanup(); err != nil {
			t.Errorf("cleanup %d after a failed opening: %v", i+1, err)
		}
	}
	r := &store.Redis{Addresses: []string{fmt.Sprintf("127.0.0.1:%d", harness.Port(t))}}
	if _, _, err := store.OpenRedis(r); err == nil {
		t.Fatal("a Redis nobody answers opened")
	}
	for i := range 2 {
		if err := r.Cleanup(); err != nil {
			t.Errorf("cleanup %d after a failed provision: %v", i+1, err)
		}
	}
	// And after a provision that worked: open, a second Open answers at
	// once (store.Opener); closed once, the second Cleanup is quiet.
	r = &store.Redis{Addresses: []string{redistest.Server(t)}}
	if _, _, err := store.OpenRedis(r); err != nil {
		t.Fatal(err)
	}
	if err := r.Open(ctx); err != nil {
		t.Errorf("a second Open: %v", err)
	}
	for i := range 2 {
		if err := r.Cleanup(); err != nil {
			t.Errorf("cleanup %d: %v", i+1, err)
		}
	}
}
