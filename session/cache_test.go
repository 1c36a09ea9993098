package session

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// cacheToken is a token-shaped string whose key (its last 8 bytes) is i's.
func cacheToken(i int) string { return fmt.Sprintf("header.claims-%d.%043d", i, i) }

func cacheClaims(sub string) *Claims {
	return &Claims{RegisteredClaims: jwt.RegisteredClaims{Subject: sub, ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour))}}
}

// TestCacheBound: however many tokens are added, the cache holds at most
// its bound, and whatever it serves is the claims added for that token.
func TestCacheBound(t *testing.T) {
	t.Parallel()
	c := newCache(100)
	for i := range 1000 {
		c.Add(cacheToken(i), cacheClaims(fmt.Sprint(i)))
		if c.Len() > 100 {
			t.Fatalf("%d entries after %d added, bound is 100", c.Len(), i+1)
		}
	}
	served := 0
	for i := range 1000 {
		if cl, ok := c.Get(cacheToken(i), time.Now()); ok {
			served++
			if cl.Subject != fmt.Sprint(i) {
				t.Fatalf("token %d served %s's claims", i, cl.Subject)
			}
		}
	}
	if served != 100 {
		t.Fatalf("%d tokens served, want the 100 held", served)
	}
	c.Flush()
	if _, ok := c.Get(cacheToken(999), time.Now()); ok || c.Len() != 0 {
		t.Fatalf("after Flush: %d entries", c.Len())
	}
}

// TestCacheConcurrent: readers take no lock, so while writers add,
// replace, remove and forget, a reader gets the claims made for its own
// token or a miss, never another's (run with -race).
func TestCacheConcurrent(t *testing.T) {
	t.Parallel()
	c := newCache(16) // small: buckets fill and entries are replaced
	const tokens = 64
	var writers, readers sync.WaitGroup
	stop := make(chan struct{})
	for w := range 2 {
		writers.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				i := (n*7 + w) % tokens
				switch n % 5 {
				case 3:
					c.Remove(cacheToken(i))
				case 4:
					c.Forget(func(cl *Claims) bool { return cl.Subject == fmt.Sprint(i) })
				default:
					c.Add(cacheToken(i), cacheClaims(fmt.Sprint(i)))
				}
			}
		})
	}
	for r := range 2 {
		readers.Go(func() {
			for n := range 20000 {
				i := (n*3 + r) % tokens
				if cl, ok := c.Get(cacheToken(i), time.Now()); ok && cl.Subject != fmt.Sprint(i) {
					t.Errorf("token %d served %s's claims", i, cl.Subject)
					return
				}
			}
		})
	}
	readers.Wait()
	close(stop)
	writers.Wait()
	if n := c.Len(); n < 0 || n > 16 {
		t.Fatalf("%d entries, bound is 16", n)
	}
}

// TestCacheServesOnlyTheWholeToken: a token is served only to itself: one
// that ends the same (the cache's key) but differs anywhere else, or is
// shorter or longer, is a miss; removing it removes only itself.
func TestCacheServesOnlyTheWholeToken(t *testing.T) {
	t.Parallel()
	for _, n := range []int{300, 900} {
		c := newCache(10)
		end := ".signature-ending-in-" + fmt.Sprint(n)
		tok := strings.Repeat("h", n-len(end)) + end
		c.Add(tok, cacheClaims("carol"))
		if cl, ok := c.Get(strings.Clone(tok), time.Now()); !ok || cl.Subject != "carol" {
			t.Fatalf("%d bytes: the token itself is a miss", n)
		}
		for _, other := range []string{
			"x" + tok[1:],                 // another first byte
			tok[:n/2] + "x" + tok[n/2+1:], // another byte midway
			tok[1:],                       // shorter
			"h" + tok,                     // longer
			end,                           // the ending alone
		} {
			if _, ok := c.Get(other, time.Now()); ok {
				t.Fatalf("%d bytes: a token of %d bytes that ends the same got the claims", n, len(other))
			}
		}
		c.Remove("x" + tok[1:])
		if _, ok := c.Get(tok, time.Now()); !ok {
			t.Fatalf("%d bytes: removing another token that ends the same removed this one", n)
		}
		c.Remove(tok)
		if _, ok := c.Get(tok, time.Now()); ok {
			t.Fatalf("%d bytes: a removed token is served", n)
		}
	}
}

// newCache is a cache holding at most max tokens, apart from a Manager
// (which holds its own: Cache.init).
func newCache(max int) *Cache {
	c := new(Cache)
	c.init(max)
	return c
}
