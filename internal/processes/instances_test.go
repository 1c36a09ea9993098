package processes

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/pages"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestTwoInstancesShareRedis: two Caddy processes on one Redis behave as
// one — on a single server, through Sentinel, and on a Cluster.
func TestTwoInstancesShareRedis(t *testing.T) {
	t.Parallel()
	t.Run("Single", func(t *testing.T) { t.Parallel(); twoInstances(t, "store redis "+redistest.Server(t)) })
	t.Run("Sentinel", func(t *testing.T) {
		t.Parallel()
		s := redistest.StartSentinelToldOnly(t)
		twoInstances(t, fmt.Sprintf("store redis %s {\n\t\t\tmaster_name %s\n\t\t}", strings.Join(s.Sentinels, " "), redistest.MasterName))
	})
	t.Run("Cluster", func(t *testing.T) {
		t.Parallel()
		twoInstances(t, "store redis "+strings.Join(redistest.StartCluster(t), " "))
	})
}

// twoInstances: a code sent through A is accepted by B, a session made on
// B is valid on A, limits count across both, and a logout on B ends the
// session on A within the 2 s bound.
func twoInstances(t *testing.T, store string) {
	a, b := startTwo(t, t.TempDir(), false, func(port int) string {
		return fmt.Sprintf(`http://localhost:%d {
	respond /health 200
	smsgate {
		identity none
		user carol +14155552671
		user dave +14155550100
		user erin +14155550101
		realm multi.localhost
		admins carol
		limit ip 2 1h
		%s
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}
`, port, store)
	})

	// A code sent through A is accepted by B (cookies ignore the port).
	c := newBrowser(t, "")
	_, _, page := c.do("GET", a.s.base+"/.smsgate/login", nil)
	csrf := csrfField.FindStringSubmatch(page)[1]
	if st, _, _ := c.do("POST", a.s.base+"/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {csrf}}); st != http.StatusSeeOther {
		t.Fatalf("login on A: %d", st)
	}
	if st, loc, body := c.do("POST", b.s.base+"/.smsgate/verify", url.Values{"code": {a.s.lastCode()}, "csrf": {csrf}}); st != http.StatusSeeOther || loc != "/" {
		t.Fatalf("the code from A, on B: %d %s\n%s", st, loc, body)
	}
	// The session made on B is valid on A.
	if st, _, body := c.do("GET", a.s.base+"/", nil); st != 200 || body != "Hello, carol!" {
		t.Fatalf("B's session on A: %d %q", st, body)
	}

	// Limits count across both: two sends from this IP, the third refused.
	d := newBrowser(t, "")
	_, _, page = d.do("GET", b.s.base+"/.smsgate/login", nil)
	dcsrf := csrfField.FindStringSubmatch(page)[1]
	if st, _, _ := d.do("POST", b.s.base+"/.smsgate/login", url.Values{"username": {"dave"}, "csrf": {dcsrf}}); st != http.StatusSeeOther {
		t.Fatalf("second send: %d", st)
	}
	if st, _, _ := d.do("POST", a.s.base+"/.smsgate/login", url.Values{"username": {"erin"}, "csrf": {dcsrf}}); st != http.StatusTooManyRequests {
		t.Fatalf("third send from one IP across two instances: %d, want 429", st)
	}

	// The console on A (carol is its admin, signed in a moment ago on B)
	// shows what happened on B: each instance adds its events to the one
	// ring in Redis every 5 s.
	start := time.Now()
	for {
		st, _, body := c.do("GET", a.s.base+"/.smsgate/admin/events?user=dave", nil)
		if st == http.StatusOK && strings.Contains(body, "<td>dave</td>") {
			break
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("A's console never showed dave's sign-in on B: %d\n%s", st, body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if st, _, body := c.do("GET", b.s.base+"/.smsgate/admin/costs", nil); st != http.StatusOK || !strings.Contains(body, "<svg") || !strings.Contains(body, `<th scope="row">US</th>`) {
		t.Fatalf("B's console costs: %d\n%s", st, body)
	}

	// A logout on B ends the session on A, within the bound.
	_, _, page = c.do("GET", b.s.base+"/.smsgate/logout", nil)
	csrf = csrfField.FindStringSubmatch(page)[1]
	stolen := c.cookieValue(a.s.base, pages.OwnSessionCookie("multi.localhost")) // its realm is not the host's
	if st, _, _ := c.do("POST", b.s.base+"/.smsgate/logout", url.Values{"csrf": {csrf}}); st != http.StatusOK {
		t.Fatalf("logout on B: %d", st)
	}
	thief := newBrowser(t, "")
	thief.setCookie(a.s.base, pages.OwnSessionCookie("multi.localhost"), stolen)
	start = time.Now()
	for {
		st, _, _ := thief.do("GET", a.s.base+"/", nil)
		if st == http.StatusFound {
			break
		}
		if time.Since(start) > 5*time.Second {
			t.Fatal("A still accepts the session 5 s after a logout on B")
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("the logout on B reached A after %s", time.Since(start).Round(10*time.Millisecond))
}

// TestRedisDownMidRun: Redis goes away while Caddy runs. A sign-in gets a
// clear 503 (not a 500, no stack, no session without a code); a user
// already signed in here keeps getting in; when Redis is back, sign-ins work
// again without restarting Caddy.
func TestRedisDownMidRun(t *testing.T) {
	t.Parallel()
	r := redistest.Start(t)
	sock := listen(t)
	port := sock.Port
	base := fmt.Sprintf("http://localhost:%d", port)
	config, logFile := caddyfile(t, t.TempDir(), "down", "admin off", fmt.Sprintf(`http://localhost:%d {
	smsgate {
		identity none
		user carol +14155552671
		user dave +14155550100
		realm down.localhost
		store redis %s
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}
`, port, r.Addr))
	s := startCaddy(t, sock, config, logFile, base)
	signIn := func(b *browser, user string) (int, string) {
		_, _, page := b.do("GET", base+"/.smsgate/login", nil)
		csrf := csrfField.FindStringSubmatch(page)[1]
		if st, _, body := b.do("POST", base+"/.smsgate/login", url.Values{"username": {user}, "csrf": {csrf}}); st != http.StatusSeeOther {
			return st, body
		}
		st, _, body := b.do("POST", base+"/.smsgate/verify", url.Values{"code": {s.lastCode()}, "csrf": {csrf}})
		return st, body
	}
	carol := newBrowser(t, "")
	if st, body := signIn(carol, "carol"); st != http.StatusSeeOther {
		t.Fatalf("carol's sign-in: %d\n%s", st, body)
	}
	if st, _, _ := carol.do("GET", base+"/", nil); st != http.StatusOK {
		t.Fatalf("carol after signing in: %d", st)
	}

	r.Stop()
	dave := newBrowser(t, "")
	st, body := signIn(dave, "dave")
	if st != http.StatusServiceUnavailable || strings.Contains(body, "goroutine") || strings.Contains(body, "redis") {
		t.Fatalf("a sign-in with Redis down: %d\n%s", st, body)
	}
	if dave.cookieValue(base, pages.OwnSessionCookie("down.localhost")) != "" {
		t.Fatal("a session without a code")
	}
	// carol's session was checked while Redis was up: it stays good. (One
	// older than this instance's reading of the revocation log, and not
	// seen by it, is refused: its revocation cannot be looked up.)
	for i := 0; i < 3; i++ {
		if st, _, body := carol.do("GET", base+"/", nil); st != http.StatusOK || body != "Hello, carol!" {
			t.Fatalf("carol with Redis down: %d %q", st, body)
		}
		time.Sleep(time.Second) // past the revocation poll, which now fails
	}

	r.Restart()
	start := time.Now()
	for {
		if st, _ := signIn(newBrowser(t, ""), "dave"); st == http.StatusSeeOther {
			break
		}
		if time.Since(start) > 10*time.Second {
			t.Fatal("sign-ins did not come back 10 s after Redis did")
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("sign-ins came back %s after Redis did", time.Since(start).Round(10*time.Millisecond))
}
