package processes

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/harness"
	"github.com/smsgate/caddy-smsgate/pages"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// gatePair is two Caddy processes, each an smsgate site on one store.
type gatePair struct{ a, b *server }

// startPair starts two instances of a site whose smsgate block has the
// given options (and identity none, realm pair.localhost, provider log),
// admin off. dir keeps their configs, logs and data directories (a test
// that restarts one reuses it).
func startPair(t *testing.T, dir, options string) gatePair {
	t.Helper()
	a, b := startTwo(t, dir, false, func(port int) string { return pairSite(port, options) })
	return gatePair{a.s, b.s}
}

// instance is one of the two Caddys that startTwo starts.
type instance struct {
	s    *server
	host string // localhost:port, where the console says a session was made
	// admin is its admin endpoint (host:port, the CLI's --address), ""
	// when it has none; cfg its Caddyfile (the CLI's --config).
	admin, cfg string
}

// startTwo starts two Caddys, a and b, each serving site(port), together:
// they must agree on one signing key. dir keeps their Caddyfiles and logs.
// With admin, each has an admin endpoint of its own.
func startTwo(t *testing.T, dir string, admin bool, site func(port int) string) (a, b instance) {
	t.Helper()
	var wg sync.WaitGroup
	for name, in := range map[string]*instance{"a": &a, "b": &b} {
		sock := listen(t)
		in.host = fmt.Sprintf("localhost:%d", sock.Port)
		globals := "admin off"
		if admin {
			in.admin = fmt.Sprintf("localhost:%d", harness.Port(t))
			globals = "admin " + in.admin
		}
		config, logFile := caddyfile(t, dir, name, globals, site(sock.Port))
		in.cfg = config
		wg.Go(func() { in.s = startCaddy(t, sock, config, logFile, "http://"+in.host) })
	}
	wg.Wait()
	return a, b
}

func pairSite(port int, options string) string {
	return fmt.Sprintf(`http://localhost:%d {
	respond /health 200
	smsgate {
		identity none
		realm pair.localhost
		provider log
		%s
	}
	respond "Hello, {http.auth.user.id}!"
}
`, port, options)
}

// users lists n provisioned users u0…u<n-1>, for a smsgate block.
func users(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "user u%d +1415555%04d\n\t\t", i, 2000+i)
	}
	return b.String()
}

// signInPair signs user in: the code asked for on first, typed on second.
// It returns the status of the last step (303 when signed in).
func signInPair(b *browser, first, second *server, user string) (int, string) {
	st, _, page := b.do("GET", first.base+"/.smsgate/login", nil)
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		return st, page
	}
	if st, _, body := b.do("POST", first.base+"/.smsgate/login", url.Values{"username": {user}, "csrf": {m[1]}}); st != http.StatusSeeOther {
		return st, body
	}
	st, _, body := b.do("POST", second.base+"/.smsgate/verify", url.Values{"code": {first.lastCode()}, "csrf": {m[1]}})
	return st, body
}

// logoutReach is how soon a logout on one instance must reach another:
// its next read of the revocation log, plus a second for the round trips
// and the test's own polling. README.md says so (TestREADMESaysHowFarALogoutReaches).
const logoutReach = session.RevocationPoll + time.Second

// TestREADMESaysHowFarALogoutReaches: the README's figure is the bound
// TestRedisBlipKeepsSignedInUsers holds a logout to.
func TestREADMESaysHowFarALogoutReaches(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("(`TestRedisBlipKeepsSignedInUsers` checks that it is under %d s)", logoutReach/time.Second)
	if !strings.Contains(strings.Join(strings.Fields(string(raw)), " "), want) {
		t.Fatalf("README.md does not say %q", want)
	}
}

// TestRedisBlipKeepsSignedInUsers: while people sign out on instance B,
// Redis goes away — stopped (and restarted from its append-only file), or
// paused. Every user instance A had already checked keeps getting in,
// without waiting on the store; a sign-in is a clear 503; once Redis is
// back, sign-ins work again. Each logout reached A within the documented
// bound (session.RevocationPoll plus a round trip).
func TestRedisBlipKeepsSignedInUsers(t *testing.T) {
	t.Parallel()
	t.Run("Stopped", func(t *testing.T) { t.Parallel(); blip(t, false) })
	t.Run("Paused", func(t *testing.T) { t.Parallel(); blip(t, true) })
}

func blip(t *testing.T, pause bool) {
	r := redistest.Persistent(t)
	p := startPair(t, t.TempDir(), users(10)+"store redis "+r.Addr)
	var signedIn []*browser
	for i := range 8 {
		b := newBrowser(t, "")
		if st, body := signInPair(b, p.a, p.b, fmt.Sprint("u", i)); st != http.StatusSeeOther {
			t.Fatalf("u%d's sign-in: %d\n%s", i, st, body)
		}
		if st, _, _ := b.do("GET", p.a.base+"/", nil); st != http.StatusOK {
			t.Fatalf("u%d on A: %d", i, st)
		}
		signedIn = append(signedIn, b)
	}
	// Two sign out on B (a realistic rate: the soak saw one every 2 s);
	// each logout reaches A within the bound.
	for _, out := range signedIn[:2] {
		_, _, page := out.do("GET", p.b.base+"/.smsgate/logout", nil)
		csrf := csrfField.FindStringSubmatch(page)[1]
		stolen := out.cookieValue(p.a.base, pages.OwnSessionCookie("pair.localhost")) // its realm is not the host's
		if st, _, _ := out.do("POST", p.b.base+"/.smsgate/logout", url.Values{"csrf": {csrf}}); st != http.StatusOK {
			t.Fatalf("logout on B: %d", st)
		}
		thief := newBrowser(t, "")
		thief.setCookie(p.a.base, pages.OwnSessionCookie("pair.localhost"), stolen)
		start := time.Now()
		for {
			st, _, _ := thief.do("GET", p.a.base+"/", nil)
			if st == http.StatusFound {
				break
			}
			if time.Since(start) > logoutReach {
				t.Fatalf("A still accepts a session %s after a logout on B", time.Since(start).Round(time.Millisecond))
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Logf("the logout on B reached A after %s", time.Since(start).Round(time.Millisecond))
	}
	stayed := signedIn[2:]
	// u9 has a code and has not typed it yet.
	waiting := newBrowser(t, "")
	_, _, page := waiting.do("GET", p.a.base+"/.smsgate/login", nil)
	waitingCSRF := csrfField.FindStringSubmatch(page)[1]
	if st, _, body := waiting.do("POST", p.a.base+"/.smsgate/login", url.Values{"username": {"u9"}, "csrf": {waitingCSRF}}); st != http.StatusSeeOther {
		t.Fatalf("u9's code: %d\n%s", st, body)
	}
	waitingCode := p.a.lastCode()

	if pause {
		r.Pause()
	} else {
		r.Stop()
	}
	// Through several polls of the revocation log, which now fail.
	for end := time.Now().Add(3 * session.RevocationPoll); time.Now().Before(end); {
		for i, b := range stayed {
			start := time.Now()
			if st, _, body := b.do("GET", p.a.base+"/", nil); st != http.StatusOK || !strings.HasPrefix(body, "Hello, u") {
				t.Fatalf("u%d, checked by A before, with Redis down: %d %q", i+2, st, body)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Fatalf("u%d's request waited %s for the store", i+2, d)
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !pause {
		newcomer := newBrowser(t, "")
		st, body := signInPair(newcomer, p.a, p.a, "u8")
		if st != http.StatusServiceUnavailable || strings.Contains(body, "redis") || strings.Contains(body, "dial tcp") {
			t.Fatalf("a sign-in with Redis down: %d\n%s", st, body)
		}
		// The code step's 503 offers that step again, where the code
		// already sent still works, beside "Start again" (which would ask
		// for a new code, refused for 30 s by the resend cooldown).
		st, _, body = waiting.do("POST", p.a.base+"/.smsgate/verify", url.Values{"code": {waitingCode}, "csrf": {waitingCSRF}})
		if st != http.StatusServiceUnavailable || !strings.Contains(body, `<a href="/.smsgate/verify" id="retry">`) {
			t.Fatalf("typing a code with Redis down: %d, no way back to the code's form\n%s", st, body)
		}
	}

	if pause {
		r.Resume()
	} else {
		r.Restart()
	}
	// Sign-ins come back, each instance in its own time: a stopped server
	// that go-redis gave up dialing it probes once a second, and until then
	// it answers with the last dial's error. The user retries the step that
	// failed, as on the pages: asks A for a code until A sends one, then
	// types it on B until B takes it. (Starting again from the login form
	// would meet the resend cooldown, 30 s, whenever A had sent the code
	// while B was not back yet: sign-ins did not come back within 30 s.)
	start := time.Now()
	newcomer := newBrowser(t, "")
	_, _, page = newcomer.do("GET", p.a.base+"/.smsgate/login", nil)
	csrf := csrfField.FindStringSubmatch(page)[1]
	untilBack(t, start, "A sends a code", func() (int, string) {
		st, _, body := newcomer.do("POST", p.a.base+"/.smsgate/login", url.Values{"username": {"u8"}, "csrf": {csrf}})
		return st, body
	})
	code := p.a.lastCode()
	untilBack(t, start, "B takes the code", func() (int, string) {
		st, _, body := newcomer.do("POST", p.b.base+"/.smsgate/verify", url.Values{"code": {code}, "csrf": {csrf}})
		return st, body
	})
	t.Logf("sign-ins came back %s after Redis did", time.Since(start).Round(time.Millisecond))
	untilBack(t, start, "u9's code, sent before Redis went", func() (int, string) {
		// "Try again" leads here: the code's form.
		if st, _, body := waiting.do("GET", p.a.base+"/.smsgate/verify", nil); st == http.StatusServiceUnavailable {
			return st, body
		} else if st != http.StatusOK || !strings.Contains(body, `name="code"`) {
			t.Fatalf("the code's form once Redis was back: %d\n%s", st, body)
		}
		st, _, body := waiting.do("POST", p.a.base+"/.smsgate/verify", url.Values{"code": {waitingCode}, "csrf": {waitingCSRF}})
		return st, body
	})
	for i, b := range stayed {
		if st, _, _ := b.do("GET", p.b.base+"/", nil); st != http.StatusOK {
			t.Fatalf("u%d on B after Redis came back: %d", i+2, st)
		}
	}
}

// untilBack repeats step while it answers 503 (the store is not back for
// that instance yet), until it answers 303; anything else, or 30 s after
// start, fails the test.
func untilBack(t *testing.T, start time.Time, what string, step func() (int, string)) {
	t.Helper()
	for {
		st, body := step()
		switch {
		case st == http.StatusSeeOther:
			return
		case st != http.StatusServiceUnavailable:
			t.Fatalf("once Redis was back, %s: %d\n%s", what, st, body)
		case time.Since(start) > 30*time.Second: // a busy 2-core machine is slow too
			t.Fatalf("sign-ins did not come back 30 s after Redis did: %s: %d", what, st)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
