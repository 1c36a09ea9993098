package redistest

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/smsgate/caddy-smsgate/internal/harness"
)

// sharedDBs is how many databases the Shared server has: more than the
// tests of a binary that hold one at once (a test takes one once it runs,
// past its t.Parallel, and gives it back at its end).
const sharedDBs = 1024

// shared is the redis-server a test binary's tests share (Shared).
var shared struct {
	once sync.Once
	addr string
	mu   sync.Mutex
	free []int // databases no running test holds
}

// Shared is the address of a redis-server that the test binary's tests
// share and a database of t's own there (store.Redis's DB), empty, which
// is emptied again (FLUSHDB) and given to another test when t ends: for a
// test that needs a Redis but not a server of its own, as it neither
// stops, pauses, fills nor configures the server. The server is started
// by the first test that asks and lives as long as the binary (it dies
// with it: harness.Start). A server started for each test part cost ~20
// ms of CPU, and enrollment started 112 of them a run; its tests' keys
// under prefixes of their own in one database instead cost the shared
// server more CPU than the starts saved (each scan walked every test's
// keys, and expired keys of all of them were swept together; 11.3 s of
// CPU where the 112 servers had spent 5.2 s: docs/TESTING.md, speed41b).
// Without redis-server the test skips, unless CI is set, as Server.
func Shared(t testing.TB) (addr string, db int) {
	t.Helper()
	bin := need(t, "redis-server")
	shared.once.Do(func() {
		// In the binary's own temporary folder (harness.OwnTemp), removed
		// when its tests end, swept if it is killed.
		dir, err := os.MkdirTemp("", "redis-shared-")
		if err != nil {
			t.Fatal(err)
		}
		port := harness.FreePort()
		r := &Redis{Addr: fmt.Sprintf("127.0.0.1:%d", port), t: t, bin: bin, dir: dir, port: port,
			args: []string{"--databases", fmt.Sprint(sharedDBs)}}
		r.Restart() // never stopped: it dies with the binary
		for db := sharedDBs - 1; db >= 0; db-- {
			shared.free = append(shared.free, db)
		}
		shared.addr = r.Addr
	})
	if shared.addr == "" {
		t.Fatal("redistest: the shared redis-server did not start (see the first test that asked for it)")
	}
	shared.mu.Lock()
	if len(shared.free) == 0 {
		shared.mu.Unlock()
		t.Fatalf("redistest: all %d databases of the shared redis-server are held", sharedDBs)
	}
	db = shared.free[len(shared.free)-1]
	shared.free = shared.free[:len(shared.free)-1]
	shared.mu.Unlock()
	t.Cleanup(func() {
		c := redis.NewClient(&redis.Options{Addr: shared.addr, DB: db})
		err := c.FlushDB(context.Background()).Err()
		c.Close()
		if err != nil {
			t.Errorf("redistest: emptying database %d of the shared redis-server: %v", db, err)
			return // not given back: a later test would find its keys
		}
		shared.mu.Lock()
		shared.free = append(shared.free, db)
		shared.mu.Unlock()
	})
	return shared.addr, db
}
