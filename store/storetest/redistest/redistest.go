// Package redistest starts real redis-server processes on loopback for
// tests: a single server, a Sentinel setup (one master, one replica, three
// sentinels) and a Cluster (three masters, with a replica each or none).
package redistest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/harness"
)

// Server starts a redis-server on loopback for one test and returns its
// address. Without redis-server it skips, unless CI is set: there .ci/run
// has installed it, and its absence is a failure.
func Server(t testing.TB) string { return Start(t).Addr }

// Redis is a redis-server that a test can stop and start again.
type Redis struct {
	Addr string
	t    testing.TB
	bin  string
	dir  string
	port int
	args []string // beyond the common ones: a replica's, a cluster node's
	// sentinel, if set, makes it a sentinel with this config (which a
	// sentinel reads and rewrites, so it is a file of its own).
	sentinel string
	cmd      *exec.Cmd
}

// Start is Server, with a handle to stop and restart the server.
func Start(t testing.TB) *Redis { return StartWith(t) }

// StartWith is Start with more redis-server options, which win over the
// defaults: "--appendonly", "yes" keeps the data across a Restart;
// "--maxmemory-policy", "allkeys-lru" lets it evict.
func StartWith(t testing.TB, args ...string) *Redis {
	t.Helper()
	r := newRedis(t, freePort(t, 0), args...)
	r.Restart()
	return r
}

// Persistent starts a server that keeps its data across a Restart: every
// write in its append-only file before it is acknowledged.
func Persistent(t testing.TB) *Redis {
	t.Helper()
	return StartWith(t, "--appendonly", "yes", "--appendfsync", "always")
}

// Pause stops the server without closing its connections (SIGSTOP): a hung
// server, not a refused connection. Resume lets it go on.
func (r *Redis) Pause() { r.signal(syscall.SIGSTOP) }

// Resume lets a paused server go on.
func (r *Redis) Resume() { r.signal(syscall.SIGCONT) }

func (r *Redis) signal(sig syscall.Signal) {
	r.t.Helper()
	if r.cmd == nil {
		r.t.Fatal("redistest: the server is not running")
	}
	if err := r.cmd.Process.Signal(sig); err != nil {
		r.t.Fatal(err)
	}
}

// newRedis makes a server on port without starting it; it is stopped
// when the test ends.
func newRedis(t testing.TB, port int, args ...string) *Redis {
	t.Helper()
	r := &Redis{Addr: fmt.Sprintf("127.0.0.1:%d", port), t: t, bin: need(t, "redis-server"), dir: t.TempDir(), port: port, args: args}
	t.Cleanup(r.Stop)
	return r
}

// need finds a program the tests need: a skip without it, a failure on CI.
func need(t testing.TB, name string) string {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed; .ci/run installs it", name)
		}
		t.Skipf("%s is not installed (apt-get install redis-server redis-tools)", name)
	}
	return bin
}

// freePort reserves a loopback port for a server of this test; with bus >
// 0, port+bus too (a cluster node talks to the others on its port +
// 10000).
func freePort(t testing.TB, bus int) int {
	t.Helper()
	if bus > 0 {
		return harness.Port(t, bus)
	}
	return harness.Port(t)
}

// Stop kills the server (its data is gone, unless it was started with
// persistence).
func (r *Redis) Stop() {
	if r.cmd != nil {
		r.logCPU()
		_ = r.cmd.Process.Signal(syscall.SIGCONT) // a paused server cannot die
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
		r.cmd = nil
	}
}

// Restart starts the server again on the same port: empty, unless it
// keeps an append-only file (Persistent).
func (r *Redis) Restart() {
	r.t.Helper()
	r.Stop()
	// A master sends a replica its first copy at once: by default it
	// waits 5 s for more replicas to ask, and every Sentinel setup (its
	// replica online before it is used) waited them out.
	args := []string{"--bind", "127.0.0.1", "--port", fmt.Sprint(r.port), "--save", "", "--appendonly", "no",
		"--repl-diskless-sync-delay", "0", "--dir", r.dir, "--logfile", filepath.Join(r.dir, "redis.log")}
	if r.sentinel != "" {
		conf := filepath.Join(r.dir, "sentinel.conf")
		if err := os.WriteFile(conf, []byte(r.sentinel), 0o600); err != nil {
			r.t.Fatal(err)
		}
		args = []string{conf, "--sentinel", "--bind", "127.0.0.1", "--port", fmt.Sprint(r.port),
			"--dir", r.dir, "--logfile", filepath.Join(r.dir, "sentinel.log")}
	} else {
		args = append(args, r.args...)
	}
	r.cmd = exec.Command(r.bin, args...)
	if err := harness.Start(r.cmd, syscall.SIGKILL); err != nil { // dies with the test binary
		r.t.Fatal(err)
	}
	// Asked again after 1 ms, then twice as long each time up to 20 ms: a
	// server listens some 2-5 ms after it is started, and a first wait of
	// 20 ms was most of every start (21-23 ms a server, now ~5).
	wait := time.Millisecond
	for deadline := time.Now().Add(5 * time.Second); ; wait = min(2*wait, 20*time.Millisecond) {
		if c, err := net.Dial("tcp", r.Addr); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(r.dir, "redis.log"))
			r.t.Fatalf("redis-server %v did not start:\n%s", args, log)
		}
		time.Sleep(wait)
	}
}
