package session

import (
	"crypto/rand"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
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
