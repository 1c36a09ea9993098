package redistest

import (
	"bufio"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Watch is a TCP proxy on loopback in front of a Redis server that notes
// what a client asks of it: each command it passes on (a pipeline's one
// by one), and each connection it could not pass on (the server stopped:
// the client's connection is closed at once, as a refused one fails). A
// stopped or paused server behind it is what the client meets; the proxy
// only counts. It stops when the test ends.
type Watch struct {
	Addr   string
	mu     sync.Mutex
	seen   [][]string // round trips: their commands ("get smsgate:device/…"), or "refused"
	refuse bool
	held   map[string]chan struct{} // commands held until released (Hold), by name
	gen    int                      // Seen calls, which start seen again
	l      net.Listener
	open   map[net.Conn]bool
}

// Close stops the proxy: its port refuses connections, and those it had
// are closed, as a stopped server's are (then nothing is counted).
func (w *Watch) Close() {
	w.l.Close()
	w.mu.Lock()
	defer w.mu.Unlock()
	for c := range w.open {
		c.Close()
	}
}

// track keeps c among the open connections, which Close ends.
func (w *Watch) track(c net.Conn) {
	w.mu.Lock()
	w.open[c] = true
	w.mu.Unlock()
}

// Refuse makes the proxy answer every command but a connection's
// handshake with an error of its own, not passing it on (a store that
// answers, and refuses everything): each call the client makes is one
// command seen, with its key, as go-redis does not try a call again on
// an error reply.
func (w *Watch) Refuse(on bool) {
	w.mu.Lock()
	w.refuse = on
	w.mu.Unlock()
}

// Hold makes the proxy keep every command named name (lower case: "info")
// from the server until release is called (at the latest when the test
// ends): a server slow to answer that command alone, on the connections
// that sent it, while the others go on.
func (w *Watch) Hold(t testing.TB, name string) (release func()) {
	gate := make(chan struct{})
	w.mu.Lock()
	if w.held == nil {
		w.held = map[string]chan struct{}{}
	}
	w.held[name] = gate
	w.mu.Unlock()
	var once sync.Once
	release = func() {
		once.Do(func() {
			w.mu.Lock()
			delete(w.held, name)
			w.mu.Unlock()
			close(gate)
		})
	}
	t.Cleanup(release)
	return release
}

// Watched starts a Watch in front of the server at target.
func Watched(t testing.TB, target string) *Watch {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	w := &Watch{Addr: l.Addr().String(), l: l, open: map[net.Conn]bool{}}
	var conns sync.WaitGroup
	t.Cleanup(func() { l.Close(); conns.Wait() })
	go func() {
		for {
			client, err := l.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", target)
			if err != nil {
				w.note("refused")
				if tc, ok := client.(*net.TCPConn); ok {
					_ = tc.SetLinger(0) // a reset, as near a refusal as an accepted connection gets
				}
				client.Close()
				continue
			}
			w.track(client)
			w.track(server)
			conns.Add(2)
			go func() { defer conns.Done(); w.commands(server, client) }()
			go func() { defer conns.Done(); _, _ = io.Copy(client, server); client.Close(); server.Close() }()
		}
	}()
	return w
}

// Seen returns the round trips asked since the last call (each its
// commands: a pipeline's several, sent at once), and forgets them.
func (w *Watch) Seen() [][]string {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.seen
	w.seen = nil
	w.gen++
	return s
}

func (w *Watch) note(what string) {
	w.mu.Lock()
	w.seen = append(w.seen, []string{what})
	w.mu.Unlock()
}

// handshake is what go-redis sends on a new connection.
var handshake = map[string]bool{"hello": true, "auth": true, "client": true, "select": true}

// commands passes what the client writes on to the server, noting each
// command (RESP: an array of bulk strings) by its name and first key.
func (w *Watch) commands(server, client net.Conn) {
	defer server.Close()
	defer client.Close()
	r := bufio.NewReader(client)
	trip, gen := -1, 0 // this connection's round trip, in seen of Seen's gen
	for {
		var raw []byte
		fresh := r.Buffered() == 0 // what was sent at once is one round trip
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		raw = append(raw, line...)
		n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "*")))
		var words []string
		for i := 0; i < n; i++ {
			head, err := r.ReadString('\n')
			if err != nil {
				return
			}
			raw = append(raw, head...)
			size, _ := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(head, "$")))
			b := make([]byte, size+2)
			if _, err := io.ReadFull(r, b); err != nil {
				return
			}
			raw = append(raw, b...)
			if i < 2 {
				words = append(words, string(b[:size]))
			}
		}
		what := strings.Join(words, " ")
		w.mu.Lock()
		if fresh || trip < 0 || gen != w.gen {
			w.seen, trip, gen = append(w.seen, nil), len(w.seen), w.gen
		}
		w.seen[trip] = append(w.seen[trip], what)
		refuse := w.refuse && len(words) > 0 && !handshake[strings.ToLower(words[0])]
		var held chan struct{}
		if len(words) > 0 {
			held = w.held[strings.ToLower(words[0])]
		}
		w.mu.Unlock()
		if held != nil {
			<-held
		}
		if refuse {
			_, err = client.Write([]byte("-ERR redistest: the store refuses\r\n"))
		} else {
			_, err = server.Write(raw)
		}
		if err != nil {
			return
		}
	}
}
