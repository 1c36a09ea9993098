package harness

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestMain lets the tests run this binary as a second process, which asks
// for ports (HARNESS_TEST_PORTS=n prints n reserved ports), serves HTTP
// on the socket it was handed as fd 3 (HARNESS_TEST_SERVE=1), or starts a
// child, a script or makes a ProcessDir and waits to be killed
// (HARNESS_TEST_START=1, HARNESS_TEST_GROUP=1, HARNESS_TEST_DIR=1;
// start_test.go, group_test.go, dir_test.go), or prints its pid and
// GORACE and calls WithoutExitWait (HARNESS_TEST_EXEC=1, exit_test.go).
func TestMain(m *testing.M) {
	if os.Getenv("HARNESS_TEST_EXEC") == "1" {
		fmt.Printf("pid %d GORACE %q\n", os.Getpid(), os.Getenv("GORACE"))
		WithoutExitWait()
		return
	}
	if n, _ := strconv.Atoi(os.Getenv("HARNESS_TEST_PORTS")); n > 0 {
		for range n {
			fmt.Println(FreePort())
		}
		return
	}
	if os.Getenv("HARNESS_TEST_START") == "1" {
		startAndHang()
		return
	}
	if os.Getenv("HARNESS_TEST_GROUP") == "1" {
		groupAndHang()
		return
	}
	if os.Getenv("HARNESS_TEST_DIR") == "1" {
		dirAndHang()
		return
	}
	if os.Getenv("HARNESS_TEST_SERVE") == "1" {
		l, err := net.FileListener(os.NewFile(3, "socket"))
		if err != nil {
			panic(err)
		}
		_ = http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "served by %d", os.Getpid())
		}))
		return
	}
	Main(m)
}

// TestPortsAreReservedAcrossProcesses: while this test holds ports, no
// other process that asks for ports gets one of them, and none is in the
// kernel's range for outgoing connections.
func TestPortsAreReservedAcrossProcesses(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the reservation across processes is Linux's abstract sockets")
	}
	low, high := reservable()
	held := map[int]bool{}
	for range 200 {
		p := Port(t)
		if p < low || p >= high {
			t.Fatalf("port %d outside [%d, %d)", p, low, high)
		}
		if held[p] {
			t.Fatalf("port %d given twice", p)
		}
		held[p] = true
	}
	// Another process cannot take them: each lock is refused there.
	for p := range held {
		if release, ok := lock(p); ok {
			release()
			t.Fatalf("port %d could be locked again in this process", p)
		}
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = ChildEnv("HARNESS_TEST_PORTS=2000")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	n := 0
	for sc.Scan() {
		p, _ := strconv.Atoi(sc.Text())
		if held[p] {
			t.Fatalf("another process got port %d, which this test holds", p)
		}
		n++
	}
	if n != 2000 {
		t.Fatalf("the other process printed %d ports", n)
	}
}

// TestAPortIsGivenOncePerProcess: a port a finished test gave back is
// not handed out again in this process. Process-wide state kept by a
// server's address (continuity's memory of a store) took a later test's
// new redis-server for the earlier one's store, wiped: CI failed on
// TestAnEnrollmentTheConfigClosedMeanwhileIsRefused/redis with "New
// enrollments are paused". 3,000 draws from the range repeat ~200 times
// without the rule.
func TestAPortIsGivenOncePerProcess(t *testing.T) {
	seen := map[int]string{}
	for i := range 3000 {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			p := Port(t)
			if first, ok := seen[p]; ok {
				t.Fatalf("port %d given again (first to test %s)", p, first)
			}
			seen[p] = t.Name()
		})
	}
}

// TestPortsWithOffsets: a port asked for with an offset comes with that
// one reserved too.
func TestPortsWithOffsets(t *testing.T) {
	p := Port(t, 10000)
	for _, q := range []int{p, p + 10000} {
		if release, ok := lock(q); ok {
			release()
			t.Fatalf("port %d is not reserved", q)
		}
	}
}

// TestSocketOutlivesItsServers: a child serves on the test's socket;
// once it is gone, a request waits (it is not refused) and the next
// child, on the same port, answers it.
func TestSocketOutlivesItsServers(t *testing.T) {
	s := Listen(t)
	serve := func() *exec.Cmd {
		var files Files
		if bind := files.Bind(s); bind != "fd/3" {
			t.Fatalf("the first file binds as %s", bind)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = ChildEnv("HARNESS_TEST_SERVE=1")
		cmd.ExtraFiles = files
		if err := Start(cmd, syscall.SIGKILL); err != nil { // it serves until killed
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		return cmd
	}
	get := func() string {
		res, err := http.Get("http://" + s.Addr() + "/")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}
	first := serve()
	if got, want := get(), fmt.Sprint("served by ", first.Process.Pid); got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	_ = first.Process.Kill()
	_ = first.Wait()
	// No server now: the connection is accepted by the kernel and waits.
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatalf("with no server, a connection was refused: %v", err)
	}
	fmt.Fprintf(c, "GET / HTTP/1.0\r\nHost: x\r\n\r\n")
	second := serve()
	b, _ := io.ReadAll(c)
	c.Close()
	if want := fmt.Sprint("served by ", second.Process.Pid); !strings.HasSuffix(string(b), want) {
		t.Fatalf("the waiting request got %q, want %q", b, want)
	}
}

func TestChildEnv(t *testing.T) {
	t.Setenv("GORACE", "halt_on_error=1")
	env := ChildEnv("A=b")
	if !slices.Contains(env, "A=b") {
		t.Fatalf("no A=b in %q", env)
	}
	var gorace []string
	for _, kv := range env {
		if strings.HasPrefix(kv, "GORACE=") {
			gorace = append(gorace, kv)
		}
	}
	// The last of a key is what a child gets (exec.Cmd.Env).
	if got := gorace[len(gorace)-1]; got != "GORACE=halt_on_error=1 atexit_sleep_ms=0" {
		t.Fatalf("GORACE: %q", got)
	}
}

// TestFreePortsOutliveTheCollector: a port FreePort gave stays reserved
// after garbage collections. Before, nothing held its lock socket, whose
// finalizer closed it at the next collection: another test binary (the
// suite runs two at once, each asking for ports) could be given the port
// of this one's Caddy before that Caddy bound it.
func TestFreePortsOutliveTheCollector(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the reservation across processes is Linux's abstract sockets")
	}
	p := FreePort()
	runtime.GC()
	runtime.GC()
	if release, ok := lock(p); ok {
		release()
		t.Fatalf("port %d: its reservation ended with a garbage collection", p)
	}
}
