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

// roundTrips counts what a Redis client sends: one per command alone, one
// per pipeline.
type roundTrips struct{ n atomic.Int64 }

func (c *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { c.n.Add(1); return next(ctx, cmd) }
}
func (c *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { c.n.Add(1); return next(ctx, cmds) }
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
	g.signin.Users = map[string]signin.User{}
	sent := &capture{}
	g.challenges.Sender = sent
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
	code := sent.last(g.signin.Users[user].Phone)
	res = serveGate(g, "POST", "http://localhost/.smsgate/verify", ip, url.Values{"code": {code}, "csrf": {m[1]}}, res.Result().Cookies())
	return http.StatusSeeOther, res.Code
}

// TestSignInRoundTrips: a sign-in on Redis, every limit on, costs three
// round trips to send the code (who is named; lockouts and cooldown; the
// limits, the challenge and its cooldown) and three to check it (the
// flow's challenge; lockouts and the try; consuming it) — twenty before
// batching. The sign-in's own work, from the send to the consumed code,
// is four of them. Noting the new session in the user's list of sessions
// (for the admin: an atomic update, GET and compare-and-set) adds two. On
// one server and on a cluster.
func TestSignInRoundTrips(t *testing.T) {
	t.Parallel()
	for name, addrs := range map[string]func(testing.TB) []string{
		"single":  func(tb testing.TB) []string { return []string{redistest.Server(tb)} },
		"cluster": redistest.StartCluster,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			g, sent := redisGate(t, addrs(t))
			g.signin.Users["carol"] = signin.User{Name: "carol", Phone: "+14155552671"}
			g.signin.Users["dave"] = signin.User{Name: "dave", Phone: "+14155550100"}
			count := &roundTrips{}
			g.store.(*store.Redis).Client().AddHook(count)
			if login, verify := signInOnce(g, sent, "carol", "127.0.0.1"); login != http.StatusSeeOther || verify != http.StatusSeeOther {
				t.Fatalf("first sign-in: %d %d", login, verify) // warms the pool: new connections say HELLO
			}
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
			if n := count.n.Load(); n != 5 {
				t.Errorf("checking the code and noting the session took %d round trips, want 3 + 2", n)
			}
		})
	}
}
