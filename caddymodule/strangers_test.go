package caddymodule

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/redis/go-redis/v9"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/signin"
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

// TestStrangersCannotFillTheStore floods a gate with identity none on a
// real redis-server with logins naming unknown users (each a decoy, the
// dearest admission), at 1,000 requests a second by the gate's clock, each
// from a new /48, with the default limits, through the end of one total
// window and the start of the next (so that both windows' records are
// alive at once: the worst case); then passkey sign-ins. On main nothing
// bounded it (the same flood kept all 12,000: 20.4 MiB in 12 s, growing),
// and passkey sign-ins had no cap at all. Now the store keeps at most two
// windows of admissions, far under 64 MiB; the figures are in
// docs/BENCHMARKS.md and SECURITY.md.
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

	// Each request goes through the sign-in's admission of strangers and
	// the sign-in it guards, as the login and passkey pages call them: the
	// HTTP around them keeps nothing in the store, and costs the test most
	// of its time (TestStrangersAreBounded goes through a real Caddy).
	sent, admitted := 0, 0
	flood := func(until time.Time, passkeys bool) {
		for ; tick().Before(until); clock.Add(int64(time.Millisecond)) {
			ip := fmt.Sprintf("2001:db8:%x:%x::1", rand.IntN(1<<16), rand.IntN(1<<16))
			sc := enrollment.Scope{Realm: g.Realm, Host: g.host, IP: ip}
			flow := &signin.Flow{ID: enrollment.RandomID()}
			err := g.signin.AdmitStranger(ctx, &sc, "", "", passkeys)
			switch {
			case err == nil && !passkeys:
				_, err = g.signin.Login(ctx, sc, flow, "", "stranger-"+strconv.Itoa(sent), "")
			case err == nil:
				_, err = g.signin.BeginPasskeyLogin(ctx, sc.Realm, "", flow)
			}
			sent++
			var limit *enrollment.LimitError
			switch {
			case err == nil:
				admitted++
			case !errors.As(err, &limit) || limit.Limit != "strangers":
				t.Fatalf("request %d: %v", sent, err)
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
