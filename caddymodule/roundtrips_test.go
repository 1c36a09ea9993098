package caddymodule

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/redis/go-redis/v9"

	"github.com/smsgate/caddy-smsgate/internal/clock"
	"github.com/smsgate/caddy-smsgate/internal/harness"
	"github.com/smsgate/caddy-smsgate/signin"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// roundTrips counts the round trips that requests (serveGate's) send to
// Redis: one per command alone, one per pipeline. Not counted: what the
// gate does beside its requests on the same client — the store watch every
// storewatch.StoreWatch, the figures' and recent events' flushes every
// admin.FlushEvery, two round trips each, which landed in the count
// whenever a tick fell inside a request (under load) — and a new
// connection's handshake (HELLO, CLIENT SETINFO), which is the pool's.
type roundTrips struct{ n atomic.Int64 }

// served marks the context of a request that serveGate runs.
type served struct{}

// handshake is what go-redis sends when it opens a connection.
var handshake = map[string]bool{"hello": true, "auth": true, "client": true, "select": true}

func (c *roundTrips) count(ctx context.Context, cmds ...redis.Cmder) {
	if ctx.Value(served{}) == nil {
		return
	}
	for _, cmd := range cmds {
		if !handshake[cmd.Name()] {
			c.n.Add(1)
			return
		}
	}
}

func (c *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { c.count(ctx, cmd); return next(ctx, cmd) }
}
func (c *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { c.count(ctx, cmds...); return next(ctx, cmds) }
}

// redisGate is a provisioned gate on a Redis store, with every limit on
// (the defaults) and a sender that keeps the last code.
func redisGate(tb testing.TB, addrs []string) (*Gate, *capture) {
	// A clock of its own: the test runs beside others.
	ctx, cancel := caddy.NewContext(caddy.Context{Context: clock.With(context.Background(), new(clock.Test).Now)})
	tb.Cleanup(cancel)
	st, _ := json.Marshal(map[string]any{"module": "redis", "addresses": addrs})
	g := &Gate{Realm: "localhost", Identity: IdentityNone, SigningAlg: "HS256", StoreRaw: st,
		ProvidersRaw: []json.RawMessage{json.RawMessage(`{"provider":"log"}`)}}
	if err := g.Provision(ctx); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = g.Cleanup() }) // its watch and flushes, before the store closes
	g.run.signin.Users = map[string]signin.User{}
	sent := &capture{}
	g.run.challenges.Sender = sent
	return g, sent
}

// serveGate runs one request through g's handler from client IP ip.
func serveGate(g *Gate, method, target, ip string, form url.Values, cookies []*http.Cookie) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, strings.NewReader(form.Encode()))
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, c := range cookies {
		r.AddCookie(c)
	}
	ctx := context.WithValue(r.Context(), caddy.ReplacerCtxKey, caddy.NewReplacer())
	ctx = context.WithValue(ctx, caddyhttp.VarsCtxKey, map[string]any{caddyhttp.ClientIPVarKey: ip})
	ctx = context.WithValue(ctx, served{}, true)
	w := httptest.NewRecorder()
	_ = g.ServeHTTP(w, r.WithContext(ctx), caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error { return nil }))
	return w
}

// signInOnce signs user in from ip: POST login, POST verify with the code.
// It returns the two answers' statuses.
func signInOnce(g *Gate, sent *capture, user, ip string) (login, verify int) {
	page := serveGate(g, "GET", "http://localhost/.smsgate/login", ip, nil, nil)
	m := harness.CSRF.FindStringSubmatch(page.Body.String())
	if m == nil {
		return page.Code, 0
	}
	res := serveGate(g, "POST", "http://localhost/.smsgate/login", ip, url.Values{"username": {user}, "csrf": {m[1]}}, page.Result().Cookies())
	if res.Code != http.StatusSeeOther {
		return res.Code, 0
	}
	code := sent.last(g.run.signin.Users[user].Phone)
	res = serveGate(g, "POST", "http://localhost/.smsgate/verify", ip, url.Values{"code": {code}, "csrf": {m[1]}}, res.Result().Cookies())
	return http.StatusSeeOther, res.Code
}

// TestSignInRoundTrips: a sign-in on Redis, every limit on, costs three
// round trips to send the code (who is named; lockouts and cooldown; the
// limits, the challenge and its cooldown) and three to check it (the
// flow's challenge; lockouts and the try; consuming it) — twenty before
// batching. The sign-in's own work, from the send to the consumed code,
// is four of them. Reading whether her revocation record already covers
// the new session (a sign-out everywhere a moment ago at an instance whose
// clock is ahead: pages' bornEnded, attack34b F2) adds one, and noting the
// new session in the user's list of sessions (for the admin: an atomic
// update, GET and compare-and-set) two. On
// one server and on a cluster. Beside the requests, the store is kept busy
// as the gate's own watch and flushes keep it, which the count leaves out.
func TestSignInRoundTrips(t *testing.T) {
	t.Parallel()
	for name, addrs := range map[string]func(testing.TB) []string{
		"single":  func(tb testing.TB) []string { return []string{redistest.Server(tb)} },
		"cluster": redistest.StartCluster,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			g, sent := redisGate(t, addrs(t))
			g.run.signin.Users["carol"] = signin.User{Name: "carol", Phone: "+14155552671"}
			g.run.signin.Users["dave"] = signin.User{Name: "dave", Phone: "+14155550100"}
			count := &roundTrips{}
			g.run.store.(*store.Redis).Client().AddHook(count)
			if login, verify := signInOnce(g, sent, "carol", "127.0.0.1"); login != http.StatusSeeOther || verify != http.StatusSeeOther {
				t.Fatalf("first sign-in: %d %d", login, verify)
			}
			busy(t, g.run.store)
			page := serveGate(g, "GET", "http://localhost/.smsgate/login", "127.0.0.2", nil, nil)
			csrf := harness.CSRF.FindStringSubmatch(page.Body.String())[1]
			count.n.Store(0)
			res := serveGate(g, "POST", "http://localhost/.smsgate/login", "127.0.0.2", url.Values{"username": {"dave"}, "csrf": {csrf}}, page.Result().Cookies())
			if res.Code != http.StatusSeeOther {
				t.Fatalf("login: %d", res.Code)
			}
			if n := count.n.Swap(0); n != 3 {
				t.Errorf("sending a code took %d round trips, want 3", n)
			}
			res = serveGate(g, "POST", "http://localhost/.smsgate/verify", "127.0.0.2", url.Values{"code": {sent.last("+14155550100")}, "csrf": {csrf}}, res.Result().Cookies())
			if res.Code != http.StatusSeeOther || res.Header().Get("Location") != "/" {
				t.Fatalf("verify: %d %s", res.Code, res.Body)
			}
			if n := count.n.Load(); n != 6 {
				t.Errorf("checking the code, reading her revocation and noting the session took %d round trips, want 3 + 1 + 2", n)
			}
		})
	}
}

// busy reads st without a pause until the test ends, as the gate's
// background work does every few seconds.
func busy(t *testing.T, st store.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			_, _ = st.Get(ctx, "busy")
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
}
