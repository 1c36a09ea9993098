package store_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestALastingWriteWaitsForAReplica: on a master with a replica, a write
// the user is told about (Lasting) answers only once the replica has it,
// and is an error when the replica does not answer (SIGSTOP: connected,
// silent) — a failover then would lose it, so the user must not be told
// it was done. Other writes do not wait. Before, every write answered at
// once, and a failover lost the lasting ones the replica had not yet.
func TestALastingWriteWaitsForAReplica(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, replica := replicated(t)
	if err := st.Put(store.Lasting(ctx), "a", []byte("1"), 0); err != nil {
		t.Fatalf("a lasting write with the replica up: %v", err)
	}
	replica.Pause()
	defer replica.Resume()
	if err := st.Put(ctx, "b", []byte("1"), 0); err != nil {
		t.Fatalf("a write that is not lasting waited for the replica: %v", err)
	}
	start := time.Now()
	unacknowledged(t, lastingWrites(st, "a", "e", "b"), "the master")
	if d := time.Since(start); d > store.ReplicaWait+10*time.Second {
		t.Errorf("the writes waited %s", d)
	}
	replica.Resume()
	if err := st.Put(store.Lasting(ctx), "f", []byte("1"), 0); err != nil {
		t.Fatalf("a lasting write once the replica is back: %v", err)
	}
}

// TestALastingWriteWhereINFOIsRefused: a managed Redis may refuse INFO
// (the durability warning at start says so, and goes on). Its lasting
// writes cannot wait for replicas it cannot count, and must be done, as
// before WAIT was added: not every enrollment, logout and reset an error.
func TestALastingWriteWhereINFOIsRefused(t *testing.T) {
	t.Parallel()
	server := redistest.StartWith(t, "--rename-command", "INFO", "")
	lastingWriteDone(t, openRedis(store.Redis{Addresses: []string{server.Addr}})(t), "where INFO is refused")
}

// TestALastingWriteWhereWAITIsRefused: a server with a replica that
// refuses WAIT (renamed away, as some managed ones do) takes lasting
// writes without the wait, as one that refuses INFO does; before, every
// lasting write (enroll, logout, reset) failed there.
func TestALastingWriteWhereWAITIsRefused(t *testing.T) {
	t.Parallel()
	st, _ := replicated(t, "--rename-command", "WAIT", "")
	lastingWriteDone(t, st, "where WAIT is refused")
}

// lastingWrites is every kind of write, to key: a new key for
// PutIfAbsent, and a batch that writes other too.
func lastingWrites(st store.Store, key, fresh, other string) map[string]func(context.Context) error {
	return map[string]func(context.Context) error{
		"Put":    func(ctx context.Context) error { return st.Put(ctx, key, []byte("1"), 0) },
		"Delete": func(ctx context.Context) error { return st.Delete(ctx, key) },
		"Update": func(ctx context.Context) error {
			return st.Update(ctx, key, func([]byte, bool) ([]byte, time.Duration, error) { return []byte("2"), 0, nil })
		},
		"PutIfAbsent": func(ctx context.Context) error { _, err := st.PutIfAbsent(ctx, fresh, []byte("1"), 0); return err },
		"Batch": func(ctx context.Context) error {
			var b store.Batch
			b.Put(other, []byte("3"), 0)
			b.Put(key, []byte("3"), 0)
			return store.Do(ctx, st, &b)
		},
	}
}

// unacknowledged makes each write lasting, all at once, and checks that
// each is an error: no replica of master acknowledged it.
func unacknowledged(t *testing.T, writes map[string]func(context.Context) error, master string) {
	t.Helper()
	var wg sync.WaitGroup
	for name, write := range writes {
		wg.Go(func() {
			err := write(store.Lasting(context.Background()))
			if err == nil || !strings.Contains(err.Error(), "no replica acknowledged") || !strings.Contains(err.Error(), master) {
				t.Errorf("%s, lasting, with the replica of %s silent: %v", name, master, err)
			}
		})
	}
	wg.Wait()
}

// replicated is a store on a master (with masterArgs) whose replica is
// attached and in sync, and that replica.
func replicated(t *testing.T, masterArgs ...string) (store.Store, *redistest.Redis) {
	t.Helper()
	master, replica := replicatedServers(t, masterArgs...)
	return openRedis(store.Redis{Addresses: []string{master.Addr}})(t), replica
}

// replicatedServers is a master (with masterArgs) and its replica,
// attached and in sync.
func replicatedServers(t *testing.T, masterArgs ...string) (master, replica *redistest.Redis) {
	t.Helper()
	master = redistest.StartWith(t, append([]string{"--repl-diskless-sync-delay", "0"}, masterArgs...)...)
	_, port, _ := strings.Cut(master.Addr, ":")
	replica = redistest.StartWith(t, "--replicaof", "127.0.0.1", port)
	c := redis.NewClient(&redis.Options{Addr: master.Addr})
	defer c.Close()
	for start := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		if info, _ := c.Info(context.Background(), "replication").Result(); strings.Contains(info, "state=online") {
			break
		}
		if time.Since(start) > 20*time.Second {
			t.Fatal("the replica did not attach")
		}
	}
	return master, replica
}

// lastingWriteDone: a lasting write on st is done, and reads back.
func lastingWriteDone(t *testing.T, st store.Store, where string) {
	t.Helper()
	ctx := context.Background()
	if err := st.Put(store.Lasting(ctx), "a", []byte("1"), 0); err != nil {
		t.Fatalf("a lasting write %s: %v", where, err)
	}
	if got, err := st.Get(ctx, "a"); err != nil || string(got) != "1" {
		t.Fatalf("the write: %q %v", got, err)
	}
}

// TestALastingWriteOnAClusterWaitsForItsShard: on a Cluster whose masters
// each have a replica, a lasting write waits until the replica of the
// master that holds the key's slot has it, and is an error when that
// replica is silent (SIGSTOP); a write to another master, or one that is
// not lasting, does not wait for it. A batch waits on each master it
// wrote to. Before, no lasting write waited on a Cluster: each was told
// done though a failover of its master could lose it.
func TestALastingWriteOnAClusterWaitsForItsShard(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cluster := redistest.StartReplicatedCluster(t)
	st := openRedis(store.Redis{Addresses: cluster.Masters})(t)
	client := st.(*store.Redis).Client().(*redis.ClusterClient)
	master := func(key string) string {
		t.Helper()
		node, err := client.MasterForKey(ctx, "test:"+key)
		if err != nil {
			t.Fatal(err)
		}
		return node.Options().Addr
	}
	// The slot of a key, and of the marker written after it, as the
	// cluster computes them (hash tags in the key prefix and key too).
	for _, key := range []string{"test:a", "test:device/realm/{alice}", "{x}test:a", "test:{}b", "test:a}{", "test:revoked/r/x{"} {
		want, err := client.ClusterKeySlot(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		if got := store.SlotOf(key); int64(got) != want {
			t.Errorf("the slot of %q: %d; the cluster says %d", key, got, want)
		}
		if got := store.SlotOf(store.MarkerFor(st, key)); int64(got) != want {
			t.Errorf("the marker %q of %q is in slot %d, not %d", store.MarkerFor(st, key), key, got, want)
		}
	}
	if err := st.Put(store.Lasting(ctx), "a", []byte("1"), 0); err != nil {
		t.Fatalf("a lasting write with every replica up: %v", err)
	}
	silent := master("a")
	other, fresh := "", "" // a key on another master; a new one on a's
	for i := 0; other == "" || fresh == ""; i++ {
		if k := fmt.Sprint("b", i); master(k) != silent {
			other = k
		} else {
			fresh = k
		}
	}
	replica := cluster.ReplicaOf(silent)
	replica.Pause()
	defer replica.Resume()
	if err := st.Put(ctx, "a", []byte("2"), 0); err != nil {
		t.Fatalf("a write that is not lasting waited for the replica: %v", err)
	}
	if err := st.Put(store.Lasting(ctx), other, []byte("1"), 0); err != nil {
		t.Fatalf("a lasting write to another master waited for the silent replica: %v", err)
	}
	unacknowledged(t, lastingWrites(st, "a", fresh, other), "the master at "+silent)
	replica.Resume()
	if err := st.Put(store.Lasting(ctx), "a", []byte("6"), 0); err != nil {
		t.Fatalf("a lasting write once the replica is back: %v", err)
	}
}

// TestReplicasAreCountedWithoutALock: the count of a master's replicas is
// read again every second (INFO replication). A server slow to answer it
// (here: held by a proxy until the end) holds up no lasting write: each
// takes the count last read while one read runs. Before, the read ran
// under a lock, so every write waited behind it, and behind each other's
// reads when INFO failed.
func TestReplicasAreCountedWithoutALock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	master, _ := replicatedServers(t)
	proxy := redistest.Watched(t, master.Addr)
	st := openRedis(store.Redis{Addresses: []string{proxy.Addr}})(t)
	var mu sync.Mutex
	now := time.Now()
	store.SetReplicaClock(st, func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	if err := st.Put(store.Lasting(ctx), "a", []byte("1"), 0); err != nil {
		t.Fatal(err)
	}
	release := proxy.Hold(t, "info")
	mu.Lock()
	now = now.Add(time.Hour)
	mu.Unlock()
	proxy.Seen()
	done := make(chan struct{})
	go func() {
		defer close(done)
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() {
				if err := st.Put(store.Lasting(ctx), fmt.Sprint("k", i), []byte("1"), 0); err != nil {
					t.Errorf("a lasting write while INFO is held: %v", err)
				}
			})
		}
		wg.Wait()
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second): // a hang, not a measure: the INFO is held for good
		t.Fatal("the lasting writes waited for a held INFO")
	}
	infos := 0
	for _, trip := range proxy.Seen() {
		for _, cmd := range trip {
			if strings.HasPrefix(cmd, "info") {
				infos++
			}
		}
	}
	if infos != 1 {
		t.Errorf("%d reads of the count for 20 writes once it was due; want 1", infos)
	}
	release()
}

// TestALastingWriteAfterTheReplicaLeft: the count of replicas is read
// again each second while writes go on with the count last read, so the
// first lasting write after a failover (the replica promoted: the new
// master has none) or a replica taken away still expects one. It waits in
// vain, then reads the count again, and is done: there is nothing to wait
// for. Before, it was an error — the first logout after every Sentinel
// failover told the user to try again (TestSentinelFailover, in internal/processes,
// under load).
func TestALastingWriteAfterTheReplicaLeft(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	master, replica := replicatedServers(t)
	st := openRedis(store.Redis{Addresses: []string{master.Addr}})(t)
	var mu sync.Mutex
	now := time.Now()
	store.SetReplicaClock(st, func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	if err := st.Put(store.Lasting(ctx), "a", []byte("1"), 0); err != nil {
		t.Fatal(err)
	}
	r := redis.NewClient(&redis.Options{Addr: replica.Addr})
	defer r.Close()
	if err := r.Do(ctx, "REPLICAOF", "NO", "ONE").Err(); err != nil {
		t.Fatal(err)
	}
	m := redis.NewClient(&redis.Options{Addr: master.Addr})
	defer m.Close()
	for start := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		if info, _ := m.Info(ctx, "replication").Result(); !strings.Contains(info, "state=online") {
			break
		}
		if time.Since(start) > 20*time.Second {
			t.Fatal("the master still counts the replica that left")
		}
	}
	mu.Lock()
	now = now.Add(time.Hour) // the count is due again: this write takes the old one
	mu.Unlock()
	lastingWriteDone(t, st, "after the replica left")
}

// TestALastingWriteAfterAReplicaAttached: a master counted with no
// replica, which then gets one (the old master back as a replica after a
// failover), waits for it at the first lasting write once the count is due
// again: a count of zero older than a second is read again before it is
// believed. Before, the write took the old zero, did not wait, and was
// reported done though no replica had it (TestAFailoverBringsNoEndedSessionBack,
// in caddymodule, under load: the logout answered 200 with the replica
// paused).
func TestALastingWriteAfterAReplicaAttached(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	master := redistest.StartWith(t, "--repl-diskless-sync-delay", "0")
	st := openRedis(store.Redis{Addresses: []string{master.Addr}})(t)
	var mu sync.Mutex
	now := time.Now()
	store.SetReplicaClock(st, func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	if err := st.Put(store.Lasting(ctx), "a", []byte("1"), 0); err != nil {
		t.Fatal(err) // counted: no replica
	}
	_, port, _ := strings.Cut(master.Addr, ":")
	replica := redistest.StartWith(t, "--replicaof", "127.0.0.1", port)
	m := redis.NewClient(&redis.Options{Addr: master.Addr})
	defer m.Close()
	for start := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		if info, _ := m.Info(ctx, "replication").Result(); strings.Contains(info, "state=online") {
			break
		}
		if time.Since(start) > 20*time.Second {
			t.Fatal("the replica did not attach")
		}
	}
	replica.Pause()
	defer replica.Resume()
	mu.Lock()
	now = now.Add(time.Hour)
	mu.Unlock()
	unacknowledged(t, lastingWrites(st, "a", "e", "b"), "the master")
}

// TestABatchsPutIfAbsentOnAClusterHoldsAndLasts: on a Cluster whose masters
// each have a replica, a batch's PutIfAbsent among operations on keys of
// other masters' slots (as a passkey's sign-in puts its credential's record
// beside the deletes that forget its failures) writes only where no record
// is, says so, and once, of two such batches at once; lasting, it is an
// error while the replica of its key's master is silent, and not while
// only another master's is.
func TestABatchsPutIfAbsentOnAClusterHoldsAndLasts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cluster := redistest.StartReplicatedCluster(t)
	st := openRedis(store.Redis{Addresses: cluster.Masters})(t)
	client := st.(*store.Redis).Client().(*redis.ClusterClient)
	master := func(key string) string {
		t.Helper()
		node, err := client.MasterForKey(ctx, "test:"+key)
		if err != nil {
			t.Fatal(err)
		}
		return node.Options().Addr
	}
	// Keys on each master: one for the PutIfAbsent, others beside it.
	on := map[string][]string{}
	for i := 0; len(on) < 3 || len(on[master("k0")]) < 4; i++ {
		k := fmt.Sprint("k", i)
		on[master(k)] = append(on[master(k)], k)
	}
	silent := master("k0")
	var others []string
	for m, keys := range on {
		if m != silent {
			others = append(others, keys[0])
		}
	}
	batch := func(ctx context.Context, key string) (*store.Op, error) {
		var b store.Batch
		b.Delete(others[0])
		b.ClearWindow(others[1])
		op := b.PutIfAbsent(key, []byte("carol"), 0)
		b.Put(others[1]+"-beside", []byte("1"), 0)
		return op, store.Do(ctx, st, &b)
	}
	// Two at once: one writes.
	var wg sync.WaitGroup
	var wrote atomic.Int32
	for range 2 {
		wg.Go(func() {
			op, err := batch(store.Lasting(ctx), on[silent][0])
			if err != nil || op.Err != nil {
				t.Errorf("a lasting batch with every replica up: %v %v", err, op.Err)
			}
			if op.OK {
				wrote.Add(1)
			}
		})
	}
	wg.Wait()
	if wrote.Load() != 1 {
		t.Errorf("two batches' PutIfAbsent of one key at once: %d wrote, want 1", wrote.Load())
	}
	replica := cluster.ReplicaOf(silent)
	replica.Pause()
	defer replica.Resume()
	if op, err := batch(ctx, on[silent][1]); err != nil || !op.OK {
		t.Errorf("a batch that is not lasting waited for the silent replica: %v %v", err, op.OK)
	}
	op, err := batch(store.Lasting(ctx), on[silent][2])
	if err == nil && op.Err == nil || !strings.Contains(fmt.Sprint(err, op.Err), "no replica acknowledged") {
		t.Errorf("a lasting batch's PutIfAbsent with its master's replica silent: %v %v, want no replica acknowledged", err, op.Err)
	}
	replica.Resume()
	if op, err := batch(store.Lasting(ctx), on[silent][3]); err != nil || !op.OK {
		t.Errorf("a lasting batch once the replica is back: %v %v", err, op.OK)
	}
	if op, err := batch(ctx, on[silent][3]); err != nil || op.OK {
		t.Errorf("a PutIfAbsent again over its record: %v %v, want not written", err, op.OK)
	}
}
