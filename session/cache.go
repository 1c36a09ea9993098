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
	entries map[cacheKey]cacheEntry
	max     int
}

// cacheKey is the last 8 bytes of a token's signature (44 to 46 random
// bits in base64url: the last character carries 2 or 4), read as a number: a lookup in a map keyed by integers
// hashes one word, not the whole ~300-byte token. It only finds the
// entry; Get serves the entry only to the very token it was made for
// (see cacheEntry).
type cacheKey uint64

// cacheEntry is a verified token and its claims. A hit needs the whole
// token equal to the one verified, so a different or tampered token
// never gets another's claims: one that ends like a cached token but
// differs anywhere (its header, its claims, the rest of its signature) is
// a miss and is verified, and fails. Comparing is cheaper than hashing
// (memequal reads the bytes once, in wide words), so the key is short and
// the comparison whole.
type cacheEntry struct {
	token   string
	claims  *Claims
	expires int64 // Unix nanoseconds: no pointer to chase on a hit
}

// NewCache returns a cache holding at most max tokens.
func NewCache(max int) *Cache {
	return &Cache{entries: make(map[cacheKey]cacheEntry, max), max: max}
}

// keyOf is a token's cache key; ok is false for a token too short to be
// one (never cached).
func keyOf(token string) (k cacheKey, ok bool) {
	if len(token) < 8 {
		return 0, false
	}
	for _, b := range []byte(token[len(token)-8:]) {
		k = k<<8 | cacheKey(b)
	}
	return k, true
}

// Get returns the claims of a token verified earlier that has not expired
// by now.
func (c *Cache) Get(token string, now time.Time) (*Claims, bool) {
	k, ok := keyOf(token)
	if !ok {
		return nil, false
	}
	c.mu.RLock()
	e, ok := c.entries[k]
	c.mu.RUnlock()
	if !ok || e.token != token || now.UnixNano() >= e.expires {
		return nil, false
	}
	return e.claims, true
}

// Add remembers verified claims. When the cache is full it drops an
// arbitrary entry; a dropped token is simply verified again. A token that
// ends like another replaces it (the other is verified again on its next
// use).
func (c *Cache) Add(token string, cl *Claims) {
	k, ok := keyOf(token)
	if !ok || cl.ExpiresAt == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, found := c.entries[k]; !found && len(c.entries) >= c.max {
		for k := range c.entries {
			delete(c.entries, k)
			break
		}
	}
	c.entries[k] = cacheEntry{token: token, claims: cl, expires: cl.ExpiresAt.UnixNano()}
}

// Remove forgets one token (after logout).
func (c *Cache) Remove(token string) {
	k, ok := keyOf(token)
	if !ok {
		return
	}
	c.mu.Lock()
	if e, found := c.entries[k]; found && e.token == token {
		delete(c.entries, k)
	}
	c.mu.Unlock()
}

// Forget forgets the tokens whose claims match (the sessions a
// revocation elsewhere named).
func (c *Cache) Forget(match func(*Claims) bool) {
	c.mu.Lock()
	for k, e := range c.entries {
		if match(e.claims) {
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
