package storewatch

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/audit"
	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestEvictionsPutRevocationsBack: a Redis set to evict keys after the
// gates started (one that evicts is refused at start) drops a session's
// revocation record and its log entry before another instance read them.
// That instance would let the signed-out session in again. The gate that
// revoked it notices the evictions at its next look at the store, and
// puts back the revocations it knows of, so the other instance refuses
// the session. Before, evictions only froze enrollment, and the session
// was let in.
func TestEvictionsPutRevocationsBack(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", t.TempDir()) // continuity's marker
	ctx := context.Background()
	srv := redistest.StartWith(t, "--maxmemory", "2mb", "--maxmemory-policy", "noeviction")
	_, port, _ := strings.Cut(srv.Addr, ":")
	// Two instances: two addresses of one server are not one store
	// (store.Same), so no revocation reaches the other in memory.
	open := func(addr string) store.Store {
		st, closeStore, err := store.OpenRedis(&store.Redis{Addresses: []string{addr}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = closeStore() })
		return st
	}
	stA, stB := open(srv.Addr), open("localhost:"+port)
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	manager := func(st store.Store) *session.Manager {
		m, err := session.NewManager(ctx, session.Config{Store: st, Realm: "r", Secret: []byte("0123456789abcdef0123456789abcdef"),
			Lifetime: time.Hour, Now: clock})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	a, b := manager(stA), manager(stB)
	w, _, err := Open(ctx, stA, "a", "", &audit.Log{Logger: zap.NewNop(), Realm: "r"}, clock)
	if err != nil {
		t.Fatal(err)
	}
	w.sessions = a

	tok, _, err := a.IssueBegun(ctx, session.Began{}, "alice", []factor.AMR{factor.AMRSMS}, session.Where{})
	if err != nil {
		t.Fatal(err)
	}
	cl, err := a.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer c.Close()
	if err := c.ConfigSet(ctx, "maxmemory-policy", "volatile-random").Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Revoke(ctx, tok, cl); err != nil {
		t.Fatal(err)
	}
	// Evict them: junk with a TTL, which volatile-random evicts among the
	// records that have one (not the epoch, the counter or the users').
	record, logged := "smsgate:"+store.Key("revoked", "r", cl.SID), "smsgate:"+store.Key("revocation", "1")
	junk := strings.Repeat("x", 1000)
	for i := 0; c.Exists(ctx, record, logged).Val() > 0; i++ {
		if i > 1000 {
			t.Fatal("filling Redis: the revocation never evicted")
		}
		_, _ = c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for j := range 100 {
				p.Set(ctx, fmt.Sprintf("junk:%d:%d", i, j), junk, time.Hour)
			}
			return nil
		})
	}
	// The memory freed again: only the records matter now.
	if err := c.ConfigSet(ctx, "maxmemory-policy", "noeviction").Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.ConfigSet(ctx, "maxmemory", "0").Err(); err != nil {
		t.Fatal(err)
	}

	w.check(ctx) // the watch's next look, as every 2 s
	mu.Lock()
	now = now.Add(2 * session.RevocationPoll)
	mu.Unlock()
	a.Check(ctx, "another request") // whose poll puts the records back
	for start := time.Now(); c.Exists(ctx, record).Val() == 0; time.Sleep(20 * time.Millisecond) {
		if time.Since(start) > 10*time.Second {
			break // a hang, not a measure: b is asked below either way
		}
	}
	if b.Check(ctx, tok) != nil {
		t.Fatal("a session revoked at one instance, its records evicted, was let in at another")
	}
}
