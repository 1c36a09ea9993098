package session

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkCacheForget is revocation news applied to a gate's cache
// (applyHere, LetGo): the sessions it names forgotten, here none of
// those held, in a cache of CachedSessions' table holding "few" (3,
// a small site's, or a test's) or "full" (CachedSessions less 20).
//
//	go test ./session -run '^$' -bench CacheForget -benchmem
func BenchmarkCacheForget(b *testing.B) {
	for _, held := range []struct {
		name string
		n    int
	}{{"few", 3}, {"full", CachedSessions - 20}} {
		c := newCache(CachedSessions)
		for i := range held.n {
			c.Add(cacheToken(i), cacheClaims(fmt.Sprint(i)))
		}
		b.Run(held.name, func(b *testing.B) {
			for b.Loop() {
				c.Forget(func(cl *Claims) bool { return cl.Subject == "nobody" })
			}
		})
	}
}

// TestForgetFindsEveryEntry: Forget reads only the buckets that may hold
// an entry, so every entry stored must mark its bucket, again after
// Forget found the bucket empty and unmarked it; an entry Forget does not
// match stays served.
func TestForgetFindsEveryEntry(t *testing.T) {
	t.Parallel()
	c := newCache(CachedSessions)
	now := time.Now()
	for round := range 3 {
		for i := range 500 {
			c.Add(cacheToken(i), cacheClaims(fmt.Sprint(i%2)))
		}
		if c.Len() != 500 {
			t.Fatalf("round %d: %d held, want 500", round, c.Len())
		}
		c.Forget(func(cl *Claims) bool { return cl.Subject == "1" })
		for i := range 500 {
			_, ok := c.Get(cacheToken(i), now)
			if ok != (i%2 == 0) {
				t.Fatalf("round %d: token %d served %v after its sessions (%d) were forgotten", round, i, ok, i%2)
			}
		}
		c.Flush()
		if c.Len() != 0 {
			t.Fatalf("round %d: %d held after Flush", round, c.Len())
		}
		for i := range 500 {
			if _, ok := c.Get(cacheToken(i), now); ok {
				t.Fatalf("round %d: token %d served after Flush", round, i)
			}
		}
	}
}
