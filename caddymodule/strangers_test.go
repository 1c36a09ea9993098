package caddymodule

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
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
// from a new /48, through the end of one total window and the start of
// the next (so that both windows' records are alive at once: the worst
// case); then passkey sign-ins. On main nothing bounded it (the same flood
// kept all 12,000: 20.4 MiB in 12 s, growing), and passkey sign-ins had no
// cap at all. Now the store keeps at most two windows of admissions, far
// under 64 MiB at the default total of 5,000.
//
// With SMSGATE_FULL=1 the limits are the defaults, and the figures are
// those of docs/BENCHMARKS.md and SECURITY.md (12,000 requests). By
// default the total is 500 (`limit strangers 500 1h`), with a fifth as
// many refusals and passkey sign-ins: a tenth of the requests, and the
// same bound per admission (64 MiB for two windows of 5,000).
func TestStrangersCannotFillTheStore(t *testing.T) {
	t.Parallel()
	r := redistest.Start(t)
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	st, _ := json.Marshal(map[string]any{"module": "redis", "addresses": []string{r.Addr}})
	g := &Gate{Realm: "localhost", Identity: IdentityNone, SiteOrigin: "http://localhost", StoreRaw: st,
		ProvidersRaw: []json.RawMessage{json.RawMessage(`{"provider":"log"}`)}}
	if os.Getenv("SMSGATE_FULL") == "" {
		g.Limits = map[string]Limit{"strangers": {Count: 500, Window: caddy.Duration(time.Hour)}}
	}
	if err := g.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	var clock atomic.Int64 // the gate's clock, 1 ms a request
	total := g.run.strangers.Total.Count
	over := total / 5                                    // refusals a window, and passkey sign-ins
	span := time.Duration(total+over) * time.Millisecond // a window's worth, and refusals
	// 64 MiB for two windows at the default total: as much an admission.
	bound := int64(64<<20) * int64(total) / int64(enrollment.DefaultLimits.Strangers.Count)
	start := time.Now().Truncate(time.Hour).Add(time.Hour - span)
	clock.Store(start.UnixNano())
	tick := func() time.Time { return time.Unix(0, clock.Load()) }
	g.run.strangers.Now, g.run.challenges.Core.Now = tick, tick
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
			sc := enrollment.Scope{Realm: g.Realm, Host: g.run.host, IP: ip}
			flow := &signin.Flow{ID: enrollment.RandomID()}
			err := g.run.signin.AdmitStranger(ctx, &sc, "", "", passkeys)
			switch {
			case err == nil && !passkeys:
				_, err = g.run.signin.Login(ctx, sc, flow, "", "stranger-"+strconv.Itoa(sent), "")
			case err == nil:
				_, err = g.run.signin.BeginPasskeyLogin(ctx, sc.Realm, "", flow)
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
	if grew > bound {
		t.Errorf("the store grew by %d bytes, more than %d", grew, bound)
	}
	// Passkey sign-ins, once the window is full, are refused and keep
	// nothing (on main there was no cap at all).
	was, refusedBefore := usedMemory(t, rc), sent-admitted
	flood(start.Add(2*span+time.Duration(over)*time.Millisecond), true)
	if more := usedMemory(t, rc) - was; admitted != 2*total || sent-admitted != refusedBefore+over || more > 64<<10 {
		t.Errorf("%d passkey sign-ins over the total: %d admitted in all, the store grew by %d bytes", over, admitted, more)
	}
}
