package store_test

import (
	"context"
	"strings"
	"sync"
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
	master := redistest.StartWith(t, "--repl-diskless-sync-delay", "0")
	_, port, _ := strings.Cut(master.Addr, ":")
	replica := redistest.StartWith(t, "--replicaof", "127.0.0.1", port)
	c := redis.NewClient(&redis.Options{Addr: master.Addr})
	defer c.Close()
	for start := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		if info, _ := c.Info(ctx, "replication").Result(); strings.Contains(info, "state=online") {
			break
		}
		if time.Since(start) > 20*time.Second {
			t.Fatal("the replica did not attach")
		}
	}
	st, closeStore, err := store.OpenRedis(&store.Redis{Addresses: []string{master.Addr}, KeyPrefix: "test:"})
	if err != nil {
		t.Fatal(err)
	}
	defer closeStore()
	if err := st.Put(store.Lasting(ctx), "a", []byte("1"), 0); err != nil {
		t.Fatalf("a lasting write with the replica up: %v", err)
	}
	replica.Pause()
	defer replica.Resume()
	if err := st.Put(ctx, "b", []byte("1"), 0); err != nil {
		t.Fatalf("a write that is not lasting waited for the replica: %v", err)
	}
	start := time.Now()
	var wg sync.WaitGroup
	for name, write := range map[string]func(context.Context) error{
		"Put":    func(ctx context.Context) error { return st.Put(ctx, "c", []byte("1"), 0) },
		"Delete": func(ctx context.Context) error { return st.Delete(ctx, "a") },
		"Update": func(ctx context.Context) error {
			return st.Update(ctx, "d", func([]byte, bool) ([]byte, time.Duration, error) { return []byte("1"), 0, nil })
		},
		"PutIfAbsent": func(ctx context.Context) error { _, err := st.PutIfAbsent(ctx, "e", []byte("1"), 0); return err },
	} {
		wg.Go(func() {
			if err := write(store.Lasting(ctx)); err == nil || !strings.Contains(err.Error(), "no replica acknowledged") {
				t.Errorf("%s, lasting, with the replica silent: %v", name, err)
			}
		})
	}
	wg.Wait()
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
	ctx := context.Background()
	server := redistest.StartWith(t, "--rename-command", "INFO", "")
	st, closeStore, err := store.OpenRedis(&store.Redis{Addresses: []string{server.Addr}, KeyPrefix: "test:"})
	if err != nil {
		t.Fatal(err)
	}
	defer closeStore()
	if err := st.Put(store.Lasting(ctx), "a", []byte("1"), 0); err != nil {
		t.Fatalf("a lasting write where INFO is refused: %v", err)
	}
	if got, err := st.Get(ctx, "a"); err != nil || string(got) != "1" {
		t.Fatalf("the write: %q %v", got, err)
	}
}

// TestALastingWriteWhereWAITIsRefused: a server with a replica that
// refuses WAIT (renamed away, as some managed ones do) takes lasting
// writes without the wait, as one that refuses INFO does; before, every
// lasting write (enroll, logout, reset) failed there.
func TestALastingWriteWhereWAITIsRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	master := redistest.StartWith(t, "--repl-diskless-sync-delay", "0", "--rename-command", "WAIT", "")
	_, port, _ := strings.Cut(master.Addr, ":")
	redistest.StartWith(t, "--replicaof", "127.0.0.1", port)
	c := redis.NewClient(&redis.Options{Addr: master.Addr})
	defer c.Close()
	for start := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		if info, _ := c.Info(ctx, "replication").Result(); strings.Contains(info, "state=online") {
			break
		}
		if time.Since(start) > 20*time.Second {
			t.Fatal("the replica did not attach")
		}
	}
	st, closeStore, err := store.OpenRedis(&store.Redis{Addresses: []string{master.Addr}, KeyPrefix: "test:"})
	if err != nil {
		t.Fatal(err)
	}
	defer closeStore()
	if err := st.Put(store.Lasting(ctx), "a", []byte("1"), 0); err != nil {
		t.Fatalf("a lasting write where WAIT is refused: %v", err)
	}
	if got, err := st.Get(ctx, "a"); err != nil || string(got) != "1" {
		t.Fatalf("the write: %q %v", got, err)
	}
}
