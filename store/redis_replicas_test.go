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

// replicated is a store on a master (with masterArgs) whose replica is
// attached and in sync, and that replica.
func replicated(t *testing.T, masterArgs ...string) (store.Store, *redistest.Redis) {
	t.Helper()
	master := redistest.StartWith(t, append([]string{"--repl-diskless-sync-delay", "0"}, masterArgs...)...)
	_, port, _ := strings.Cut(master.Addr, ":")
	replica := redistest.StartWith(t, "--replicaof", "127.0.0.1", port)
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
	return openRedis(store.Redis{Addresses: []string{master.Addr}})(t), replica
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
