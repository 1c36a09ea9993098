package session

import (
	"context"
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// BenchmarkCacheGet is a repeat visit's lookup: a session token (of the
// length the gate issues) found among 10,000, compared whole, its expiry
// checked. The token looked up is a copy, as a request's own is.
//
//	go test ./session -run '^$' -bench CacheGet -benchmem
func BenchmarkCacheGet(b *testing.B) {
	keys := NewKeys(Derive([]byte("0123456789abcdef0123456789abcdef"), "session"), time.Now)
	c := newCache(10000)
	var tok string
	var all []string
	for range 10000 {
		cl := &Claims{RegisteredClaims: keys.NewClaims("app.example.com", "carol", 12*time.Hour), AMR: []factor.AMR{factor.AMRSMS}, SID: rand.Text()}
		cl.AuthTime = cl.IssuedAt.Unix()
		t, err := keys.Sign(cl)
		if err != nil {
			b.Fatal(err)
		}
		c.Add(t, cl)
		tok = t
		all = append(all, strings.Clone(t))
	}
	tok = strings.Clone(tok)
	now := time.Now()
	b.Run("one", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := c.Get(tok, now); !ok {
				b.Fatal("miss")
			}
		}
		b.ReportMetric(float64(len(tok)), "token-bytes")
	})
	// Every session in turn, in a random order: the cache's memory (MBs)
	// does not stay in the CPU's caches, as between two requests of a
	// real server, where the proxy's work evicts it.
	b.Run("all", func(b *testing.B) {
		all = slices.DeleteFunc(all, func(t string) bool { _, ok := c.Get(t, now); return !ok }) // dropped from a full bucket
		mrand.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
		i := 0
		for b.Loop() {
			if _, ok := c.Get(all[i], now); !ok {
				b.Fatal("miss")
			}
			i = (i + 1) % len(all)
		}
	})
}

// BenchmarkAssertionReuse is a repeat visit's identity assertion
// (assertion_header) still to be reused, among 10,000 sessions' (one app
// each): "one-app" for a session's only app, "eighth-app" for the last of
// a session's eight (a realm across hosts, or a catch-all site).
//
//	go test ./session -run '^$' -bench AssertionReuse -benchmem
func BenchmarkAssertionReuse(b *testing.B) {
	now := time.Now()
	m, err := NewManager(context.Background(), Config{Store: storetest.Badger(b), Realm: "example.com", Alg: "EdDSA",
		Lifetime: time.Hour, Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	session := func() *Claims {
		cl := &Claims{RegisteredClaims: m.keys.NewClaims("example.com", "carol", time.Hour), AMR: []factor.AMR{factor.AMRSMS}, SID: rand.Text()}
		cl.AuthTime = cl.IssuedAt.Unix()
		return cl
	}
	for range CachedSessions - 20 {
		if _, err := m.Assertion(session(), "app.example.com"); err != nil {
			b.Fatal(err)
		}
	}
	one, eight := session(), session()
	for i := range 8 {
		if _, err := m.Assertion(eight, fmt.Sprintf("app%d.example.com", i)); err != nil {
			b.Fatal(err)
		}
	}
	for _, c := range []struct {
		name, app string
		cl        *Claims
	}{{"one-app", "app.example.com", one}, {"eighth-app", "app7.example.com", eight}} {
		b.Run(c.name, func(b *testing.B) {
			first, err := m.Assertion(c.cl, strings.Clone(c.app))
			if err != nil {
				b.Fatal(err)
			}
			app := strings.Clone(c.app) // as a request's own Host
			b.ReportAllocs()
			for b.Loop() {
				if a, _ := m.Assertion(c.cl, app); a != first {
					b.Fatal("signed again")
				}
			}
		})
	}
}
