package session

import (
	"crypto/rand"
	"strings"
	"testing"
	"time"
)

// BenchmarkCacheGet is a repeat visit's lookup: a session token (of the
// length the gate issues) found among 10,000, compared whole, its expiry
// checked. The token looked up is a copy, as a request's own is.
//
//	go test ./session -run '^$' -bench CacheGet -benchmem
func BenchmarkCacheGet(b *testing.B) {
	keys := NewKeys(Derive([]byte("0123456789abcdef0123456789abcdef"), "session"), time.Now)
	c := NewCache(10000)
	var tok string
	for range 10000 {
		cl := &Claims{RegisteredClaims: keys.NewClaims("app.example.com", "carol", 12*time.Hour), AMR: []string{"sms"}, SID: rand.Text()}
		cl.AuthTime = cl.IssuedAt.Unix()
		t, err := keys.Sign(cl)
		if err != nil {
			b.Fatal(err)
		}
		c.Add(t, cl)
		tok = t
	}
	tok = strings.Clone(tok)
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := c.Get(tok, now); !ok {
			b.Fatal("miss")
		}
	}
	b.ReportMetric(float64(len(tok)), "token-bytes")
}
