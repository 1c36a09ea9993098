package session

import (
	"sync"
	"time"
)

// Cache remembers verified session tokens, so a repeat visit costs a map
// lookup instead of a signature check and a JSON parse. It is bounded; an
// entry is only served until its token expires.
type Cache struct {
	mu      sync.RWMutex
	entries map[cacheKey]*Claims
	max     int
}

// NewCache returns a cache holding at most max tokens.
func NewCache(max int) *Cache {
	return &Cache{entries: make(map[cacheKey]*Claims, max), max: max}
}

// cacheKey is the token itself: a cache belongs to one realm's Manager,
// and a lookup hashes one string and allocates nothing.
type cacheKey string

// Get returns the claims of a token verified earlier that has not expired
// by now.
func (c *Cache) Get(token string, now time.Time) (*Claims, bool) {
	c.mu.RLock()
	cl, ok := c.entries[cacheKey(token)]
	c.mu.RUnlock()
	if !ok || cl.ExpiresAt == nil || !now.Before(cl.ExpiresAt.Time) {
		return nil, false
	}
	return cl, true
}

// Add remembers verified claims. When the cache is full it drops an
// arbitrary entry; a dropped token is simply verified again.
func (c *Cache) Add(token string, cl *Claims) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		for k := range c.entries {
			delete(c.entries, k)
			break
		}
	}
	c.entries[cacheKey(token)] = cl
}

// Remove forgets one token (after logout).
func (c *Cache) Remove(token string) {
	c.mu.Lock()
	delete(c.entries, cacheKey(token))
	c.mu.Unlock()
}

// Forget forgets the tokens whose claims match (the sessions a
// revocation elsewhere named).
func (c *Cache) Forget(match func(*Claims) bool) {
	c.mu.Lock()
	for k, cl := range c.entries {
		if match(cl) {
			delete(c.entries, k)
		}
	}
	c.mu.Unlock()
}

// Flush forgets every token: each is checked against the store again on
// its next use (after news the gate could not read, or a wiped store).
func (c *Cache) Flush() {
	c.mu.Lock()
	clear(c.entries)
	c.mu.Unlock()
}
