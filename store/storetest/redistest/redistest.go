// Package redistest starts a real redis-server for tests.
package redistest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
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
	cmd  *exec.Cmd
}

// Start is Server, with a handle to stop and restart the server.
func Start(t testing.TB) *Redis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("redis-server is not installed; .ci/run installs it")
		}
		t.Skip("redis-server is not installed (apt-get install redis-server)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	r := &Redis{Addr: fmt.Sprintf("127.0.0.1:%d", port), t: t, bin: bin, dir: t.TempDir(), port: port}
	r.Restart()
	t.Cleanup(r.Stop)
	return r
}

// Stop kills the server (its data is gone: it keeps none on disk).
func (r *Redis) Stop() {
	if r.cmd != nil {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
		r.cmd = nil
	}
}

// Restart starts the server again on the same port, empty.
func (r *Redis) Restart() {
	r.t.Helper()
	r.Stop()
	r.cmd = exec.Command(r.bin, "--bind", "127.0.0.1", "--port", fmt.Sprint(r.port), "--save", "", "--appendonly", "no",
		"--dir", r.dir, "--logfile", filepath.Join(r.dir, "redis.log"))
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	for i := 0; ; i++ {
		if c, err := net.Dial("tcp", r.Addr); err == nil {
			c.Close()
			return
		}
		if i == 100 {
			r.t.Fatal("redis-server did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
