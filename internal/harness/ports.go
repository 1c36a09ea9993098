package harness

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Two ways for a test to give a server a port, neither of which lets the
// port be taken by someone else between the test's choice and the
// server's bind (listen on port 0, close, hand the number over: another
// test, in this process or another copy of the repository, or any
// outgoing connection on the machine could get it in between).
//
//   - Listen: the test holds the listening socket and the server takes it
//     over (Caddy: `bind fd/N`). The port is never released.
//   - Port: for a server that binds by itself (redis-server, nginx), a port
//     below the kernel's ephemeral range (so no outgoing connection is ever
//     given it) and reserved by a lock that every caller of Port or
//     FreePort, in any process, respects (see lock_linux.go).

// A Socket is a loopback TCP socket, listening, that a test holds for a
// server it starts. Caddy takes it over with `bind fd/N` (Bind gives N for
// a child process; Caddy in this process uses the socket's own number,
// FD): the server accepts on the test's socket, whose port the test chose
// and never let go of, and which stays the same when the server restarts.
// Connections made while no server has it wait in its backlog instead of
// being refused. It is closed when the test ends.
type Socket struct {
	Port int
	file *os.File
}

// Listen opens a Socket on 127.0.0.1 (port chosen by the kernel).
func Listen(tb testing.TB) *Socket {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close() // the file below is a second descriptor of the socket
	f, err := l.(*net.TCPListener).File()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.Close() })
	return &Socket{Port: l.Addr().(*net.TCPAddr).Port, file: f}
}

// Addr is the socket's address, 127.0.0.1:port.
func (s *Socket) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)) }

// File is the socket, for exec.Cmd.ExtraFiles: the child's descriptor
// number is 3 plus the file's index there.
func (s *Socket) File() *os.File { return s.file }

// FD is the socket's descriptor number in this process, for a server in
// this process (Caddy: "bind fd/" + FD).
func (s *Socket) FD() uintptr {
	var fd uintptr
	// Control, not File.Fd: Fd would put the socket in blocking mode.
	raw, err := s.file.SyscallConn()
	if err == nil {
		err = raw.Control(func(d uintptr) { fd = d })
	}
	if err != nil {
		panic(err) // an open *os.File always has a descriptor
	}
	return fd
}

// Files hands sockets to a child process: ExtraFiles for its exec.Cmd,
// and Bind for the address each one has there.
type Files []*os.File

// Bind adds s and returns its address in the child, "fd/N", for Caddy's
// bind directive or default_bind option.
func (fs *Files) Bind(s *Socket) string {
	*fs = append(*fs, s.file)
	return fmt.Sprintf("fd/%d", 2+len(*fs))
}

// Port returns a loopback port for a server that binds it by itself,
// reserved for this test: no caller of Port or FreePort in any process
// gets it until the test ends, the kernel never gives it to an outgoing
// connection, and nothing listened on it when it was chosen. Each of
// also (an offset, as a Redis Cluster node's bus port is port+10000) is
// reserved with it.
func Port(tb testing.TB, also ...int) int {
	tb.Helper()
	port, release, err := reserve(also)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(release)
	return port
}

// FreePort is Port for this whole process (for a package's TestMain or
// a package-level server): the reservation lasts until the process ends.
func FreePort() int {
	port, release, err := reserve(nil)
	if err != nil {
		panic(err)
	}
	forever.keep(release)
	return port
}

// forever holds the releases of the reservations that last as long as the
// process (FreePort's, ProcessDir's). Dropped, a reservation's lock socket
// was closed by its finalizer at the next collection, and the port given
// to another test binary, while this one's Caddy had yet to bind it
// (TestFreePortsOutliveTheCollector).
var forever held

type held struct {
	sync.Mutex
	releases []func()
}

func (h *held) keep(release func()) {
	h.Lock()
	h.releases = append(h.releases, release)
	h.Unlock()
}

// reserve picks a port in [low, high) (and its offsets), takes the
// reservation and checks that nothing listens on it.
func reserve(also []int) (port int, release func(), err error) {
	low, high := reservable()
	span := 0
	for _, a := range also {
		span = max(span, a)
	}
	if high-span <= low {
		return 0, nil, fmt.Errorf("harness: no port range below %d leaves room for offset %d", high, span)
	}
	for range 1000 {
		p := low + rand.IntN(high-span-low)
		ports := []int{p}
		for _, a := range also {
			ports = append(ports, p+a)
		}
		if !given.take(ports) {
			continue
		}
		var held []func()
		undo := func() {
			for _, r := range held {
				r()
			}
		}
		ok := true
		for _, q := range ports {
			r, took := lock(q)
			if !took {
				ok = false
				break
			}
			held = append(held, r)
			l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(q)))
			if err != nil {
				ok = false
				break
			}
			l.Close()
		}
		if ok {
			return p, undo, nil
		}
		undo()
	}
	return 0, nil, fmt.Errorf("harness: no free port in [%d, %d) after 1000 tries", low, high)
}

// given is every port this process has handed out: none is handed out
// twice. State the process keeps by a server's address outlives the test
// that started the server (a gate's memory of a store it saw holding
// users: continuity), so a later test's new, empty redis-server on the
// same port looked like that store wiped ("New enrollments are paused").
// The range holds ~22,000 ports; a test binary uses a few hundred.
var given = ports{seen: map[int]bool{}}

type ports struct {
	sync.Mutex
	seen map[int]bool
}

// take marks ps given, unless one of them already was.
func (g *ports) take(ps []int) bool {
	g.Lock()
	defer g.Unlock()
	for _, p := range ps {
		if g.seen[p] {
			return false
		}
	}
	for _, p := range ps {
		g.seen[p] = true
	}
	return true
}

var reservableOnce = sync.OnceValues(func() (int, int) {
	const low, fallback = 10000, 32768
	high := fallback
	// "32768	60999": ports at or above the first are the kernel's to give
	// to outgoing connections.
	if raw, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(raw)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil && n > low+1000 {
				high = n
			}
		}
	}
	return low, high
})

// reservable is the range Port chooses from: above the well-known and
// registered ports most services use, below the ephemeral range.
func reservable() (int, int) { return reservableOnce() }
