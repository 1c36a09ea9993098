package bench

import (
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/harness"
)

// TestScriptPortsAreReserved: a port bench/ports.sh gives a script is
// reserved as internal/harness reserves the tests' own (the abstract
// socket lock_linux.go names), while the script runs, and given back when
// it ends. Before, a script's port was only checked free: a test's Caddy,
// which binds the port it reserved only when a config is loaded, found
// it taken by a benchmark's Caddy beside it ("bind: address already in
// use").
func TestScriptPortsAreReserved(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	script := exec.Command("bash", "-c", `. bench/ports.sh; free_port P; echo $P; read -r _ || true`)
	script.Dir = root
	stdin, err := script.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := script.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := harness.Start(script, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	defer script.Wait()
	defer stdin.Close()
	var port int
	if _, err := fmt.Fscan(out, &port); err != nil {
		t.Fatalf("reading the script's port: %v", err)
	}
	if reservable(port) {
		t.Fatalf("port %d, given to a running script, could be reserved by a test", port)
	}
	stdin.Close() // the script ends
	if err := script.Wait(); err != nil {
		t.Fatal(err)
	}
	for start := time.Now(); !reservable(port); time.Sleep(100 * time.Millisecond) {
		if time.Since(start) > 30*time.Second { // a hang, not a measure: the holder looks twice a second
			t.Fatalf("port %d still reserved after its script ended", port)
		}
	}
}

// reservable is whether a test could reserve port now (the lock of
// internal/harness/lock_linux.go).
func reservable(port int) bool {
	l, err := net.Listen("unix", "@smsgate-test-port-"+strconv.Itoa(port))
	if err != nil {
		if !strings.Contains(err.Error(), "address already in use") {
			panic(err)
		}
		return false
	}
	l.Close()
	return true
}
