package store_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestABatchPartlyRefusedSendsTheRefusedAgain: a batch whose write the
// server refused before it ran (a demoted master's READONLY, a loading
// node's LOADING) beside a read and a counter it answered was an error
// (the request a 503), as only a batch refused whole was sent again. The
// refused write alone is sent again now; the counter, which ran, is not
// (counted once). On one server, through Sentinel and on a Cluster (the
// three keys on one node: a hash tag), a proxy refusing the write.
func TestABatchPartlyRefusedSendsTheRefusedAgain(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		// open starts the setup and returns the store, one through which
		// nothing is refused, and the Watch the batch's keys go through.
		open   func(t *testing.T) (s, direct store.Store, w *redistest.Watch)
		answer string
	}{
		{"alone", func(t *testing.T) (store.Store, store.Store, *redistest.Watch) {
			srv := redistest.Start(t)
			w := redistest.Watched(t, srv.Addr)
			return openRedis(store.Redis{Addresses: []string{w.Addr}})(t), openRedis(store.Redis{Addresses: []string{srv.Addr}})(t), w
		}, "-READONLY You can't write against a read only replica."},
		{"sentinel", func(t *testing.T) (store.Store, store.Store, *redistest.Watch) {
			srv := redistest.Start(t)
			w := redistest.Watched(t, srv.Addr)
			sentinel := redistest.SentinelOf(t, w.Addr)
			return openRedis(store.Redis{Addresses: []string{sentinel}, MasterName: redistest.MasterName})(t),
				openRedis(store.Redis{Addresses: []string{srv.Addr}})(t), w
		}, "-READONLY You can't write against a read only replica."},
		{"cluster", func(t *testing.T) (store.Store, store.Store, *redistest.Watch) {
			nodes := redistest.StartCluster(t)
			ws := redistest.WatchedCluster(t, nodes)
			s := openRedis(store.Redis{Addresses: []string{ws[0].Addr}, Cluster: true})(t)
			node, err := s.(*store.Redis).Client().(*redis.ClusterClient).MasterForKey(context.Background(), "test:{p}put")
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range ws {
				if w.Addr == node.Options().Addr {
					return s, openRedis(store.Redis{Addresses: nodes, Cluster: true})(t), w
				}
			}
			t.Fatalf("no Watch at %s", node.Options().Addr)
			return nil, nil, nil
		}, "-LOADING Redis is loading the dataset in memory"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s, direct, w := c.open(t)
			if err := direct.Put(ctx, "{p}read", []byte("r"), 0); err != nil {
				t.Fatal(err)
			}
			// The proxy answers the SET itself, at once: first in the
			// pipeline, so that its answer comes in its place.
			w.Answer("set", 1, c.answer)
			var b store.Batch
			put := b.Put("{p}put", []byte("v"), 0)
			count := b.Incr("{p}count", time.Hour)
			read := b.Get("{p}read")
			if err := store.Do(ctx, s, &b); err != nil || put.Err != nil || count.Err != nil || read.Err != nil {
				t.Fatalf("a batch whose Put was refused before it ran: %v (put %v, count %v, read %v); want none", err, put.Err, count.Err, read.Err)
			}
			if string(read.Value) != "r" || count.N != 1 {
				t.Fatalf("read %q, counted %d; want r and 1", read.Value, count.N)
			}
			if got, err := direct.Get(ctx, "{p}put"); err != nil || string(got) != "v" {
				t.Fatalf("the refused Put left %q (%v), want v", got, err)
			}
			if n, _ := direct.Counter(ctx, "{p}count"); n != 1 {
				t.Fatalf("counted %d times, want once (the counter ran: not sent again)", n)
			}
		})
	}
}

// TestABatchOnAMasterDemotedByAFailoverIsMadeOnTheNewOne: a real Sentinel
// failover (SENTINEL FAILOVER, the master alive) promotes the replica and
// demotes the old master, which a store that has not heard of the switch
// yet (its subscription to the sentinel held by a proxy: the news late)
// still sends a batch to, on the connection it holds: its read answered,
// its write refused (READONLY). That was a 503; the write is sent again
// alone, on a new connection, to the master the sentinel names now.
func TestABatchOnAMasterDemotedByAFailoverIsMadeOnTheNewOne(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sentinel := redistest.StartSentinelToldOnly(t)
	ws := redistest.Watched(t, sentinel.Sentinels[0])
	ws.Hold(t, "subscribe") // +switch-master never reaches the store
	s := openRedis(store.Redis{Addresses: []string{ws.Addr}, MasterName: redistest.MasterName})(t)
	// A batch's pipeline goes on a pool of connections of its own
	// (go-redis's pipeline pool): one made to the master before the
	// failover, as a busy store holds.
	var first store.Batch
	first.Put("read", []byte("r"), 0)
	if err := store.Do(ctx, s, &first); err != nil {
		t.Fatal(err)
	}
	sentinel.Replicated()
	old := sentinel.Master()
	sc := redis.NewSentinelClient(&redis.Options{Addr: sentinel.Sentinels[1]})
	defer sc.Close()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		err := sc.Failover(ctx, redistest.MasterName).Err()
		if err == nil {
			break
		}
		if !strings.Contains(err.Error(), "NOGOODSLAVE") || time.Now().After(deadline) {
			t.Fatalf("SENTINEL FAILOVER: %v", err)
		}
	}
	sentinel.WaitFailover(old, 30*time.Second)
	// The old master made a replica of the new one, as the sentinels do
	// (REPLICAOF; they also end its clients' connections, which a client
	// that reconnects before it hears of the switch meets all the same).
	host, port, _ := net.SplitHostPort(sentinel.Master())
	demoted := redis.NewClient(&redis.Options{Addr: old})
	defer demoted.Close()
	if err := demoted.ReplicaOf(ctx, host, port).Err(); err != nil {
		t.Fatal(err)
	}
	var b store.Batch
	put := b.Put("put", []byte("v"), 0)
	read := b.Get("read")
	if err := store.Do(ctx, s, &b); err != nil || put.Err != nil || string(read.Value) != "r" {
		t.Fatalf("a batch on the demoted master: %v (put %v, read %q %v); want written, r", err, put.Err, read.Value, read.Err)
	}
	now := redis.NewClient(&redis.Options{Addr: sentinel.Master()})
	defer now.Close()
	if got, err := now.Get(ctx, "test:put").Result(); err != nil || got != "v" {
		t.Fatalf("the new master holds %q (%v), want v", got, err)
	}
}
