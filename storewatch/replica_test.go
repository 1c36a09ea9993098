package storewatch

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/smsgate/caddy-smsgate/audit"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestAReplicaSetToEvictIsAnAlarm: a replica set to evict keys after the
// gates started (the start refuses one: store.TestAnEvictingReplicaIsRefused)
// would be an evicting master after a failover. The watch's next look at
// the store raises the alarm store_replica_evicts, naming the replica,
// once, and store_replica_keeps once it is set back. Before, only the
// master's policy was watched, so such a replica was seen only once a
// failover had made it the master.
func TestAReplicaSetToEvictIsAnAlarm(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", t.TempDir()) // continuity's marker
	ctx := context.Background()
	master := redistest.StartWith(t, "--repl-diskless-sync-delay", "0")
	_, port, _ := strings.Cut(master.Addr, ":")
	replica := redistest.StartWith(t, "--replicaof", "127.0.0.1", port)
	mc := redis.NewClient(&redis.Options{Addr: master.Addr})
	defer mc.Close()
	for start := time.Now(); !strings.Contains(mc.Info(ctx, "replication").Val(), "state=online"); time.Sleep(50 * time.Millisecond) {
		if time.Since(start) > 20*time.Second {
			t.Fatal("the replica did not attach")
		}
	}
	st, closeStore, err := store.OpenRedis(&store.Redis{Addresses: []string{master.Addr}})
	if err != nil {
		t.Fatal(err)
	}
	defer closeStore()
	core, logs := observer.New(zapcore.InfoLevel)
	w, _, err := Open(ctx, st, "a", "", &audit.Log{Logger: zap.New(core), Realm: "r"}, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	rc := redis.NewClient(&redis.Options{Addr: replica.Addr})
	defer rc.Close()
	look := func(policy string) {
		t.Helper()
		if err := rc.ConfigSet(ctx, "maxmemory-policy", policy).Err(); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Epoch().Check(ctx); err != nil { // the watch's next look
			t.Fatal(err)
		}
	}
	alarms := func(event string) []observer.LoggedEntry {
		return logs.FilterField(zap.String("event", event)).All()
	}
	look("allkeys-lru")
	look("allkeys-lru")
	if got := alarms("store_replica_evicts"); len(got) != 1 || got[0].ContextMap()["replica"] != replica.Addr ||
		got[0].ContextMap()["policy"] != "allkeys-lru" || got[0].Level != zapcore.ErrorLevel {
		t.Fatalf("a replica set to evict, two looks: %v; want one alarm naming it", got)
	}
	look("noeviction")
	if got := alarms("store_replica_keeps"); len(got) != 1 {
		t.Fatalf("the replica set back: %v; want one store_replica_keeps", got)
	}
	if got := alarms("store_evicts"); len(got) != 0 {
		t.Fatalf("the master, which does not evict, was named: %v", got)
	}
}
