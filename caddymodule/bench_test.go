package caddymodule

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/golang-jwt/jwt/v5"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/clock"
	"github.com/smsgate/caddy-smsgate/internal/cookies"
	"github.com/smsgate/caddy-smsgate/internal/harness"
	"github.com/smsgate/caddy-smsgate/pages"
	"github.com/smsgate/caddy-smsgate/providers"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/signin"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// benchGate is a provisioned gate on a Badger store in a temp folder.
func benchGate(b *testing.B, alg string) *Gate {
	dir := b.TempDir() // made first, so removed after the store closes
	// The production clock (clock.Now, and clock.Coarse for repeat
	// visits), not the one the tests move.
	ctx, cancel := caddy.NewContext(caddy.Context{Context: clock.Production(context.Background())})
	b.Cleanup(cancel)
	store, _ := json.Marshal(map[string]string{"module": "badger", "path": dir})
	g := &Gate{Realm: "localhost", Identity: IdentityNone, SigningAlg: alg, StoreRaw: store,
		ProvidersRaw: []json.RawMessage{json.RawMessage(`{"provider":"log"}`)}}
	if err := g.Provision(ctx); err != nil {
		b.Fatal(err)
	}
	if !g.run.coarse {
		b.Fatal("the gate's repeat visits read the clock, not clock.Coarse")
	}
	return g
}

// sessionRequest is a request with a new session of g's, earned by
// device ("": none, as a session of the release before the claim reads).
func sessionRequest(b *testing.B, g *Gate, device ...string) *http.Request {
	var where session.Where
	if len(device) > 0 && device[0] != "" {
		where.Device = &device[0]
	}
	tok, _, err := g.run.sessions.IssueBegun(context.Background(), session.Began{}, "carol", []factor.AMR{factor.AMRSMS}, where)
	if err != nil {
		b.Fatal(err)
	}
	r, _ := http.NewRequest(http.MethodGet, "http://localhost/app", nil)
	r.AddCookie(&http.Cookie{Name: pages.SessionCookie, Value: tok})
	return r
}

// BenchmarkSessionCheck is the per-request cost of an authenticated
// request's cookie check: a cache hit, with the revocation watch; and a
// miss (the signature, the store's revocation records), of a session
// that names a device or none. Besides the time, the process's CPU time
// per check (cpu-ns/op: the store's goroutines and the GC's too), which
// other processes on a shared machine do not inflate.
//
//	go test ./caddymodule -run '^$' -bench SessionCheck -benchmem
func BenchmarkSessionCheck(b *testing.B) {
	names := []string{pages.SessionCookie}
	check := func(g *Gate, r *http.Request) *session.Claims {
		found, _ := cookies.FindFirst(r.Header, names)
		return g.run.sessions.Check(r.Context(), found.Value)
	}
	for _, alg := range []string{"HS256", "EdDSA"} {
		b.Run(alg+"/cached", func(b *testing.B) {
			g := benchGate(b, alg)
			r := sessionRequest(b, g)
			if check(g, r) == nil {
				b.Fatal("the session does not verify")
			}
			b.ReportAllocs()
			b.ResetTimer()
			start, cpuOK := processCPU()
			runs := 0
			for b.Loop() {
				if check(g, r) == nil {
					b.Fatal("refused")
				}
				runs++
			}
			if end, _ := processCPU(); cpuOK && runs > 0 {
				b.ReportMetric(float64((end-start).Nanoseconds())/float64(runs), "cpu-ns/op")
			}
		})
		for _, device := range []string{"", "phone"} {
			name := alg + "/uncached"
			if device != "" {
				name += "/device" // its device's end read too (none there)
			}
			b.Run(name, func(b *testing.B) {
				g := benchGate(b, alg)
				r := sessionRequest(b, g, device)
				b.ReportAllocs()
				b.ResetTimer()
				start, cpuOK := processCPU() // the store's work and the GC's too
				runs := 0
				for b.Loop() {
					g.run.sessions.LetGo() // the cache emptied: the check is a miss
					if check(g, r) == nil {
						b.Fatal("refused")
					}
					runs++
				}
				if end, _ := processCPU(); cpuOK && runs > 0 {
					b.ReportMetric(float64((end-start).Nanoseconds())/float64(runs), "cpu-ns/op")
				}
			})
		}
	}
}

// BenchmarkAdmit is the whole of ServeHTTP for an admitted request with a
// cached session, up to the next handler (which does nothing): the
// identity check, the session check, the placeholders and taking the
// cookies off the request. Each request is fresh, as Caddy makes one
// (caddyhttp.PrepareRequest: its context, replacer and vars), with a
// browser's Cookie header (smsgate's cookie and another: the cookie is cut
// out of the line) or only the session cookie, as bench/profile.sh's wrk
// sends it (the header is deleted), at loopback over plain http (the
// cookie's old name, the one written there), and a browser's over HTTPS
// (its __Host- name). They are made in batches with the
// timer stopped, so that what is counted is the gate's own work. The gate
// reads the production clock (clock.Now).
//
//	go test ./caddymodule -run '^$' -bench Admit -benchmem
func BenchmarkAdmit(b *testing.B) {
	g := benchGate(b, "HS256")
	session := sessionRequest(b, g).Header.Get("Cookie")
	for _, c := range []struct {
		name, cookie, left string
		https              bool
	}{
		{"browser", session + "; theme=dark", "theme=dark", false},
		{"session-only", session, "", false},
		// Over HTTPS (anywhere but plain http at loopback), the session's
		// cookie has its __Host- name: the real world's path.
		{"https-browser", pages.HostPrefix + session + "; theme=dark", "theme=dark", true},
	} {
		b.Run(c.name, func(b *testing.B) {
			benchAdmit(b, g, c.cookie, c.left, c.https)
		})
	}
}

// BenchmarkAdmitAssertion is BenchmarkAdmit's browser with
// assertion_header: the identity assertion is reused (signed once, at
// the first request), among as many other sessions' as the cache holds
// but a few.
//
//	go test ./caddymodule -run '^$' -bench AdmitAssertion -benchmem
func BenchmarkAdmitAssertion(b *testing.B) {
	dir := b.TempDir()
	ctx, cancel := caddy.NewContext(caddy.Context{Context: clock.Production(context.Background())})
	b.Cleanup(cancel)
	store, _ := json.Marshal(map[string]string{"module": "badger", "path": dir})
	g := &Gate{Realm: "localhost", Identity: IdentityNone, SigningAlg: "EdDSA", AssertionHeader: "X-Smsgate-Assertion", StoreRaw: store,
		ProvidersRaw: []json.RawMessage{json.RawMessage(`{"provider":"log"}`)}}
	if err := g.Provision(ctx); err != nil {
		b.Fatal(err)
	}
	for i := range session.CachedSessions - 20 {
		cl := &session.Claims{SID: fmt.Sprint("other", i)}
		cl.ExpiresAt = jwt.NewNumericDate(time.Now().Add(time.Hour))
		if _, err := g.run.sessions.Assertion(cl, "localhost"); err != nil {
			b.Fatal(err)
		}
	}
	benchAdmit(b, g, sessionRequest(b, g).Header.Get("Cookie")+"; theme=dark", "theme=dark", false)
}

func benchAdmit(b *testing.B, g *Gate, cookie, left string, https bool) {
	next := caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error { return nil })
	w := httptest.NewRecorder()
	batch := make([]*http.Request, 4096)
	fill := func() {
		for i := range batch {
			r, _ := http.NewRequest(http.MethodGet, "http://localhost/app", nil)
			if https {
				r.URL.Scheme, r.TLS = "https", &tls.ConnectionState{}
			}
			r.RemoteAddr = "127.0.0.1:40000"
			r.Header.Set("Cookie", cookie)
			batch[i] = caddyhttp.PrepareRequest(r, caddy.NewReplacer(), w, nil)
		}
	}
	// Besides the time, the thread's CPU time per request (cpu-ns/op),
	// which the machine's other work does not inflate.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var cpu time.Duration
	start, cpuOK := threadCPU()
	// Inside the timer's: StopTimer and StartTimer read the memory
	// statistics, a stop of the world.
	pause := func() {
		now, _ := threadCPU()
		cpu += now - start
		b.StopTimer()
	}
	resume := func() {
		b.StartTimer()
		start, _ = threadCPU()
	}
	pause()
	fill()
	resume()
	b.ReportAllocs()
	n, runs := 0, 0
	for b.Loop() {
		if n == len(batch) {
			pause()
			fill()
			n = 0
			resume()
		}
		r := batch[n]
		n++
		runs++
		if err := g.ServeHTTP(w, r, next); err != nil {
			b.Fatal(err)
		}
		if got, ok := r.Header["Cookie"]; left == "" && ok || left != "" && (len(got) != 1 || got[0] != left) {
			b.Fatalf("Cookie %q reached the next handler", got)
		}
	}
	pause()
	if cpuOK && runs > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(runs), "cpu-ns/op")
	}
}

// BenchmarkForwardAuth is the portal's answer to a forward-auth check of
// a valid, cached session, as Caddy's forward_auth asks it (from a
// trusted proxy, with X-Forwarded-* and the browser's headers): the whole
// ServeHTTP, up to the 200 with Remote-User. Requests and response
// writers are made in batches with the timer stopped, as in
// BenchmarkAdmit.
//
//	go test ./caddymodule -run '^$' -bench ForwardAuth -benchmem
func BenchmarkForwardAuth(b *testing.B) {
	g := benchGate(b, "HS256")
	// The browser was at an HTTPS site: its session is under the __Host- name.
	cookie := "theme=dark; " + pages.HostPrefix + sessionRequest(b, g).Header.Get("Cookie")
	next := caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error { return nil })
	batch := make([]*http.Request, 4096)
	writers := make([]*benchWriter, len(batch))
	fill := func() {
		for i := range batch {
			repl := caddy.NewReplacer()
			repl.Map(func(string) (any, bool) { return nil, false }) // Caddy's HTTP placeholders
			ctx := context.WithValue(context.Background(), caddy.ReplacerCtxKey, repl)
			ctx = context.WithValue(ctx, caddyhttp.VarsCtxKey, map[string]any{caddyhttp.ClientIPVarKey: "127.0.0.1", caddyhttp.TrustedProxyVarKey: true})
			r, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://auth.localhost/.smsgate/auth", nil)
			for k, v := range map[string]string{"X-Forwarded-Method": "GET", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "app.localhost",
				"X-Forwarded-Uri": "/dashboard/42?tab=activity", "X-Forwarded-For": "127.0.0.1", "User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
				"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "Accept-Language": "en-GB,en;q=0.5", "Cookie": cookie} {
				r.Header.Set(k, v)
			}
			batch[i], writers[i] = r, &benchWriter{h: http.Header{}}
		}
	}
	fill()
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for b.Loop() {
		if n == len(batch) {
			b.StopTimer()
			fill()
			n = 0
			b.StartTimer()
		}
		w := writers[n]
		if err := g.ServeHTTP(w, batch[n], next); err != nil {
			b.Fatal(err)
		}
		n++
		if w.code != http.StatusOK || w.h.Get("Remote-User") != "carol" || w.h.Get("Cookie") != "theme=dark" {
			b.Fatalf("the check answered %d %v", w.code, w.h)
		}
	}
}

// benchWriter is a ResponseWriter that keeps the headers and the status.
type benchWriter struct {
	h    http.Header
	code int
}

func (w *benchWriter) Header() http.Header         { return w.h }
func (w *benchWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *benchWriter) WriteHeader(code int)        { w.code = code }

// capture is a provider that keeps the last code sent to each number.
type capture struct {
	mu   sync.Mutex
	byTo map[string]string
}

func (c *capture) Send(_ context.Context, m providers.Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byTo == nil {
		c.byTo = map[string]string{}
	}
	c.byTo[m.To] = m.Code
	return nil
}

func (c *capture) last(to string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byTo[to]
}

// BenchmarkSignIn is a whole sign-in through the handlers: POST login,
// then POST verify with the code, on a Badger store.
//
//	go test ./caddymodule -run '^$' -bench SignIn -benchmem
func BenchmarkSignIn(b *testing.B) {
	g := benchGate(b, "HS256")
	signIn := benchSignIn(b, g, enrollment.Limits{LockAfter: 10, Lockout: time.Minute, MaxFailures: 100, Guesses: enrollment.DefaultLimits.Guesses})
	b.ReportAllocs()
	for b.Loop() {
		signIn()
	}
}

// BenchmarkSignInFillingWindows is BenchmarkSignIn with every send limit
// on and out of reach, so that each sign-in adds a send to five windows
// (user, number, IP, country, budget) that fill as the run goes: after
// 10,000 sign-ins each holds 10,000. It reports a sign-in's time over the
// last tenth of the run divided by its time over the first tenth: a
// send's cost must not grow with what its windows hold.
//
//	go test ./caddymodule -run '^$' -bench SignInFillingWindows -benchtime 10000x
func BenchmarkSignInFillingWindows(b *testing.B) {
	g := benchGate(b, "HS256")
	high := enrollment.Rate{Count: 1 << 30, Window: time.Hour}
	signIn := benchSignIn(b, g, enrollment.Limits{User: high, Number: high, IP: high, Country: high, GlobalEnrolled: high, GlobalNew: high,
		LockAfter: 10, Lockout: time.Minute, MaxFailures: 100, Guesses: enrollment.DefaultLimits.Guesses})
	tenth := max(b.N/10, 1)
	var first, last time.Duration
	for i := range b.N {
		began := time.Now()
		signIn()
		switch took := time.Since(began); {
		case i < tenth:
			first += took
		case i >= b.N-tenth:
			last += took
		}
	}
	b.ReportMetric(float64(last)/float64(first), "last/first")
}

// benchSignIn returns a sign-in of carol (provisioned) on g under limits,
// from one browser: POST login, then POST verify with the code.
func benchSignIn(b *testing.B, g *Gate, limits enrollment.Limits) func() {
	g.run.signin.Users = map[string]signin.User{"carol": {Name: "carol", Phone: "+14155552671"}}
	sent := &capture{}
	g.run.challenges.Sender, g.run.challenges.ResendCooldown, g.run.challenges.Limits = sent, 0, limits
	*g.run.strangers = enrollment.Strangers{Store: g.run.store, Now: g.run.now} // no limits: one client signs in again and again
	serve := func(method, target string, form url.Values, cookies []*http.Cookie) *httptest.ResponseRecorder {
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		r := httptest.NewRequest(method, target, body)
		if form != nil {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		for _, c := range cookies {
			r.AddCookie(c)
		}
		ctx := context.WithValue(r.Context(), caddy.ReplacerCtxKey, caddy.NewReplacer())
		ctx = context.WithValue(ctx, caddyhttp.VarsCtxKey, map[string]any{caddyhttp.ClientIPVarKey: "127.0.0.1"})
		w := httptest.NewRecorder()
		_ = g.ServeHTTP(w, r.WithContext(ctx), caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error { return nil }))
		return w
	}
	page := serve("GET", "http://localhost/.smsgate/login", nil, nil)
	flow := page.Result().Cookies()
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page.Body.String())[1]
	return func() {
		res := serve("POST", "http://localhost/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {csrf}}, flow)
		if res.Code != http.StatusSeeOther {
			b.Fatalf("login: %d %s", res.Code, res.Body)
		}
		res = serve("POST", "http://localhost/.smsgate/verify", url.Values{"code": {sent.last("+14155552671")}, "csrf": {csrf}}, res.Result().Cookies())
		if res.Code != http.StatusSeeOther {
			b.Fatalf("verify: %d %s", res.Code, res.Body)
		}
	}
}

// BenchmarkSignInRedis is a whole sign-in (POST login, POST verify)
// through the handlers on a real redis-server, every limit on (set high,
// so that distinct users and IPs never meet them), straight to Redis and
// through a proxy that adds 1 ms to each round trip, as a network does.
// It reports the round trips each sign-in took.
//
//	go test ./caddymodule -run '^$' -bench SignInRedis -benchtime 2000x
func BenchmarkSignInRedis(b *testing.B) {
	addr := redistest.Server(b)
	for _, bc := range []struct {
		name  string
		delay time.Duration
	}{{"loopback", 0}, {"1ms", time.Millisecond}} {
		b.Run(bc.name, func(b *testing.B) {
			target := addr
			if bc.delay > 0 {
				target = harness.Delay(b, addr, bc.delay)
			}
			g, sent := redisGate(b, []string{target})
			high := enrollment.Rate{Count: 1 << 30, Window: time.Hour}
			g.run.challenges.Limits = enrollment.Limits{User: high, Number: high, IP: high, Country: high, Voice: high,
				GlobalEnrolled: high, GlobalNew: high, LockAfter: 10, Lockout: time.Minute, MaxFailures: 100}
			g.run.strangers.IP, g.run.strangers.Net, g.run.strangers.Total = high, high, high
			count := &roundTrips{}
			g.run.store.(*store.Redis).Client().AddHook(count)
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				user := fmt.Sprintf("%s%d", bc.name, i)
				g.run.signin.Users[user] = signin.User{Name: user, Phone: fmt.Sprintf("+1415%07d", 6000000+i%1000000)}
				ip := fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
				if login, verify := signInOnce(g, sent, user, ip); login != http.StatusSeeOther || verify != http.StatusSeeOther {
					b.Fatalf("sign-in %d: %d %d", i, login, verify)
				}
			}
			b.ReportMetric(float64(count.n.Load())/float64(b.N), "roundtrips/op")
		})
	}
}
