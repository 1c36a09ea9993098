package redistest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/harness"
)

// shared is the redis-server a test binary's tests share (Shared).
var shared struct {
	once sync.Once
	addr string
	n    atomic.Int64 // Prefix's count
}

// Shared is the address of a redis-server that the test binary's tests
// share, started by the first that asks and living as long as the binary
// (it dies with it: harness.Start), for a test that needs a Redis but not
// one of its own: it keeps its keys apart under a Prefix of its own, and
// neither stops, pauses, fills nor configures the server, nor counts what
// the server holds. A server a test part (a parallel part of a store
// test) started for itself cost ~20 ms of CPU (its start and its
// process's), and enrollment started 112 of them (docs/TESTING.md,
// speed41b). Without redis-server the test skips, unless CI is set, as
// Server.
func Shared(t testing.TB) string {
	t.Helper()
	bin := need(t, "redis-server")
	shared.once.Do(func() {
		dir, err := harness.ProcessDir("redis")
		if err != nil {
			t.Fatal(err)
		}
		port := harness.FreePort()
		r := &Redis{Addr: fmt.Sprintf("127.0.0.1:%d", port), t: t, bin: bin, dir: dir, port: port}
		r.Restart() // never stopped: it dies with the binary
		shared.addr = r.Addr
	})
	if shared.addr == "" {
		t.Fatal("redistest: the shared redis-server did not start (see the first test that asked for it)")
	}
	return shared.addr
}

// Prefix is a key prefix (store.Redis's KeyPrefix) of t's own on the
// Shared server: its name and a count, which no other test of the binary
// has, nor t's own run again (-count).
func Prefix(t testing.TB) string {
	return fmt.Sprintf("%s#%d:", t.Name(), shared.n.Add(1))
}
