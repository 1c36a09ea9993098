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
	cuts   map[string]int           // commands whose reply the client is not given (Cut), by name
	thens  map[string][]func()      // what runs before a cut closes the connection (CutThen), by name
	stalls map[string]int           // commands whose reply the client waits for in vain (Stall), by name
	answer map[string][]string      // answers the proxy gives in place of the server (Answer), by name
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
			c := &conn{server: server, client: client}
			go func() { defer conns.Done(); w.commands(c) }()
			go func() { defer conns.Done(); c.replies(); client.Close(); server.Close() }()
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
func (w *Watch) commands(c *conn) {
	server, client := c.server, c.client
	defer func() {
		if !c.leave() { // a cut command's reply is still to come from the server
			server.Close()
		}
	}()
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
		answer := "-ERR redistest: the store refuses\r\n"
		if len(words) > 0 && len(w.answer[strings.ToLower(words[0])]) > 0 {
			name := strings.ToLower(words[0])
			refuse, answer, w.answer[name] = true, w.answer[name][0]+"\r\n", w.answer[name][1:]
		}
		var held chan struct{}
		var then func()
		cut, stall := false, false
		if len(words) > 0 {
			name := strings.ToLower(words[0])
			held = w.held[name]
			if cut = !refuse && w.cuts[name] > 0; cut {
				w.cuts[name]--
				if len(w.thens[name]) > 0 {
					then, w.thens[name] = w.thens[name][0], w.thens[name][1:]
				}
			} else if cut = !refuse && w.stalls[name] > 0; cut {
				w.stalls[name]--
				stall = true
			}
		}
		w.mu.Unlock()
		if held != nil {
			<-held
		}
		if refuse {
			_, err = client.Write([]byte(answer))
		} else {
			c.sent(cut, stall, then)
			_, err = server.Write(raw)
		}
		if err != nil {
			return
		}
	}
}

// conn is one client's connection through the proxy and its server's:
// the commands passed on, and which one's answer is the client's last.
type conn struct {
	server, client net.Conn
	mu             sync.Mutex
	passed         int    // commands passed on to the server
	cutAt          int    // the command (1, 2, …) whose answer closes the client's connection; 0: none
	stall          bool   // that answer and those after it are kept from the client, its connection left open
	then           func() // run once that answer came, before the client's connection is closed (CutThen)
	arrived        bool   // the server gave that answer
	gone           bool   // the client's side ended
}

// sent notes a command passed on, which is cut (or stalled) where said.
func (c *conn) sent(cut, stall bool, then func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.passed++
	if cut && c.cutAt == 0 {
		c.cutAt, c.stall, c.then = c.passed, stall, then
	}
}

// leave says, as the client's side ends, whether the server's connection
// is left open for the cut command's answer still to come (replies ends it).
func (c *conn) leave() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gone = true
	return c.cutAt != 0 && !c.arrived
}

// replies passes the server's answers on to the client, one whole answer
// (RESP2 or RESP3) at a time, up to a cut one (Cut), which closes the
// client's connection in its place: the server made that command.
func (c *conn) replies() {
	r := bufio.NewReader(c.server)
	for n := 0; ; {
		raw, counts, err := reply(r, nil)
		if err != nil {
			return
		}
		if counts {
			n++
		}
		c.mu.Lock()
		cut := c.cutAt != 0 && n >= c.cutAt
		c.arrived = c.arrived || cut
		held := cut && c.stall && !c.gone
		var then func()
		if cut {
			then, c.then = c.then, nil
		}
		c.mu.Unlock()
		if held {
			continue // kept from the client, until its side ends (leave)
		}
		if cut {
			if then != nil {
				then()
			}
			return
		}
		if _, err := c.client.Write(raw); err != nil {
			return
		}
	}
}

// reply reads one RESP value from r, appended to raw; counts says whether
// it answers a command (an attribute or a push does not).
func reply(r *bufio.Reader, raw []byte) (_ []byte, counts bool, err error) {
	line, err := r.ReadString('\n')
	if err != nil || len(line) < 3 {
		return raw, false, io.ErrUnexpectedEOF
	}
	raw = append(raw, line...)
	n, _ := strconv.Atoi(strings.TrimSpace(line[1:]))
	items := 0
	switch line[0] {
	case '$', '!', '=': // bulk: its length, then the bytes and CRLF
		if n >= 0 {
			b := make([]byte, n+2)
			if _, err := io.ReadFull(r, b); err != nil {
				return raw, false, err
			}
			raw = append(raw, b...)
		}
		return raw, true, nil
	case '*', '~', '>':
		items = n
	case '%', '|':
		items = 2 * n
	default: // a line of its own: + - : _ , # (
		return raw, true, nil
	}
	for i := 0; i < items; i++ {
		if raw, _, err = reply(r, raw); err != nil {
			return raw, false, err
		}
	}
	if line[0] == '|' { // an attribute goes before the answer it is about
		var counts bool
		raw, counts, err = reply(r, raw)
		return raw, counts, err
	}
	return raw, line[0] != '>', nil
}

// Answer makes the proxy answer the next n commands named name (lower
// case) itself with answer (a RESP line: "-LOADING …"), not passing them
// on: a server refusing a command before it ran. For commands sent alone,
// or first in a pipeline (its answer is written at once, before those of
// the commands passed on: TestABatchPartlyRefusedSendsTheRefusedAgain).
func (w *Watch) Answer(name string, n int, answer string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.answer == nil {
		w.answer = map[string][]string{}
	}
	for range n {
		w.answer[name] = append(w.answer[name], answer)
	}
}
