package harness

import (
	"bytes"
	"io"
	"net"
	"sync"
	"testing"
)

// proxy is a TCP proxy on loopback to target: what the client sends goes
// through pass (which copies it on to the server, and closes the server's
// connection when it is done), answers come back at once. It stops taking
// connections when the test or benchmark ends. It returns its address.
func proxy(tb testing.TB, target string, pass func(server, client net.Conn)) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { l.Close() })
	go func() {
		for {
			client, err := l.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", target)
			if err != nil {
				client.Close()
				continue
			}
			go pass(server, client)
			go func() { _, _ = io.Copy(client, server); client.Close() }()
		}
	}()
	return l.Addr().String()
}

// Hold is a TCP proxy on loopback in front of a server (Redis) that, once
// armed, holds the first chunk the client sends naming a key until the
// test releases it: a request then waits on the store at a known point of
// its work (after one write, before the next).
type Hold struct {
	Addr    string
	ended   chan struct{} // closed when the test ends: nothing is held any more
	mu      sync.Mutex
	key     []byte
	held    chan struct{}
	release chan struct{}
}

// Holding starts a Hold in front of target; it stops when the test ends.
func Holding(tb testing.TB, target string) *Hold {
	tb.Helper()
	h := &Hold{ended: make(chan struct{})}
	h.Addr = proxy(tb, target, h.pass)
	tb.Cleanup(func() { close(h.ended) })
	return h
}

// Arm holds the next chunk that names key. Held is closed when it came;
// release lets it go on.
func (h *Hold) Arm(key string) (held <-chan struct{}, release func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.key, h.held, h.release = []byte(key), make(chan struct{}), make(chan struct{})
	return h.held, sync.OnceFunc(func() { close(h.release) })
}

func (h *Hold) pass(server, client net.Conn) {
	defer server.Close()
	buf := make([]byte, 64<<10)
	for {
		n, err := client.Read(buf)
		if err != nil {
			return
		}
		h.mu.Lock()
		var release chan struct{}
		if h.key != nil && bytes.Contains(buf[:n], h.key) {
			h.key, release = nil, h.release
			close(h.held)
		}
		h.mu.Unlock()
		if release != nil {
			select {
			case <-release:
			case <-h.ended:
			}
		}
		if _, err := server.Write(buf[:n]); err != nil {
			return
		}
	}
}
