package caddymodule

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/redis/go-redis/v9"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/internal/harness"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// usedMemory is what the Redis server at addr holds (INFO used_memory).
func usedMemory(t *testing.T, rc *redis.Client) int64 {
	t.Helper()
	info, err := rc.Info(context.Background(), "memory").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	t.Fatal("no used_memory in INFO")
	return 0
}

// TestStrangersCannotFillTheStore floods a gate with identity none (every
// login a decoy: an unknown name) and passkey sign-ins, at 1,000 requests
// a second by its clock, each from a new /48, with the default limits.
// The flood runs through the end of one total window and the whole of the
// next, so that both windows' records are alive at once, the worst case.
// On main nothing bounded it: 1 GiB after about 67 minutes at 100 a second
// from a /48's /64s, and passkey sign-ins without any cap. Now the store
// grows by at most two windows of admissions, under 64 MiB; the figures go
// to docs/BENCHMARKS.md and SECURITY.md.
func TestStrangersCannotFillTheStore(t *testing.T) {
	r := redistest.Start(t)
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	st, _ := json.Marshal(map[string]any{"module": "redis", "addresses": []string{r.Addr}})
	g := &Gate{Realm: "localhost", Identity: IdentityNone, SiteOrigin: "http://localhost", StoreRaw: st,
		ProvidersRaw: []json.RawMessage{json.RawMessage(`{"provider":"log"}`)}}
	if err := g.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	var clock atomic.Int64 // the gate's clock, 1 ms a request
	total := enrollment.DefaultLimits.Strangers.Count
	span := time.Duration(total+1000) * time.Millisecond // a window's worth, and refusals
	start := time.Now().Truncate(time.Hour).Add(time.Hour - span)
	clock.Store(start.UnixNano())
	tick := func() time.Time { return time.Unix(0, clock.Load()) }
	g.strangers.Now, g.challenges.Core.Now = tick, tick
	rc := redis.NewClient(&redis.Options{Addr: r.Addr})
	defer rc.Close()
	before := usedMemory(t, rc)

	page := serveGate(g, "GET", "http://localhost/.smsgate/login", "203.0.113.1", nil, nil)
	csrf := harness.CSRF.FindStringSubmatch(page.Body.String())[1]
	cookies := page.Result().Cookies()
	sent, admitted := 0, 0
	flood := func(until time.Time, passkeys bool) {
		for ; tick().Before(until); clock.Add(int64(time.Millisecond)) {
			ip := fmt.Sprintf("2001:db8:%x:%x::1", rand.IntN(1<<16), rand.IntN(1<<16))
			var code int
			if !passkeys {
				form := url.Values{"username": {"stranger-" + strconv.Itoa(sent)}, "csrf": {csrf}}
				code = serveGate(g, "POST", "http://localhost/.smsgate/login", ip, form, cookies).Code
			} else {
				code = passkeyBegin(g, ip, cookies)
			}
			sent++
			switch code {
			case http.StatusSeeOther, http.StatusOK:
				admitted++
			case http.StatusTooManyRequests:
			default:
				t.Fatalf("request %d: %d", sent, code)
			}
		}
	}
	// Decoys, the dearest admission: the end of one window (full, then
	// refusals), then the start of the next (full again, then refusals).
	flood(start.Add(span), false)
	flood(start.Add(2*span), false)
	grew := usedMemory(t, rc) - before
	keys, _ := rc.DBSize(context.Background()).Result()
	t.Logf("%d requests at 1000/s (clock), %d admitted, %d refused: the store grew by %.1f MiB (%d keys), %.0f bytes an admitted request",
		sent, admitted, sent-admitted, float64(grew)/(1<<20), keys, float64(grew)/float64(admitted))
	if admitted > 2*total {
		t.Errorf("%d admitted in two windows of %d", admitted, total)
	}
	if grew > 64<<20 {
		t.Errorf("the store grew by %d bytes, more than 64 MiB", grew)
	}
	// Passkey sign-ins, once the window is full, are refused and keep
	// nothing (on main there was no cap at all).
	was, refusedBefore := usedMemory(t, rc), sent-admitted
	flood(start.Add(2*span+time.Second), true)
	if more := usedMemory(t, rc) - was; admitted != 2*total || sent-admitted != refusedBefore+1000 || more > 64<<10 {
		t.Errorf("1,000 passkey sign-ins over the total: %d admitted in all, the store grew by %d bytes", admitted, more)
	}
}

// passkeyBegin starts a passkey sign-in from ip; it returns the status.
func passkeyBegin(g *Gate, ip string, cookies []*http.Cookie) int {
	r := httptest.NewRequest(http.MethodPost, "http://localhost/.smsgate/passkey/login/begin", strings.NewReader("{}"))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Origin", "http://localhost")
	for _, c := range cookies {
		r.AddCookie(c)
	}
	ctx := context.WithValue(r.Context(), caddy.ReplacerCtxKey, caddy.NewReplacer())
	ctx = context.WithValue(ctx, caddyhttp.VarsCtxKey, map[string]any{caddyhttp.ClientIPVarKey: ip})
	w := httptest.NewRecorder()
	_ = g.ServeHTTP(w, r.WithContext(ctx), caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error { return nil }))
	return w.Code
}
