// Package memo keeps what a pure function said of a key, for keys read
// lately: at most Max of them, forgotten all at once when full (a flood
// of new keys only misses, as without it). The phone numbers read
// (phone/known.go) and the message templates' fit to a site
// (enrollment/templatecache.go) keep theirs in one.
package memo

import "sync"

// A Map keeps what of said of each key. Its zero value keeps nothing past
// a Max of 0: set Max.
type Map[K comparable, V any] struct {
	Max int
	mu  sync.Mutex
	m   map[K]V
}

// Get answers what of said of key, asking it once while key is kept. of
// runs outside the lock: two first askings of one key may both run it,
// and the last answer is kept (of is pure: they are the same).
func (c *Map[K, V]) Get(key K, of func() V) V {
	c.mu.Lock()
	v, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return v
	}
	v = of()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= c.Max {
		c.m = make(map[K]V, c.Max)
	}
	c.m[key] = v
	return v
}

// Forget forgets every key (a test's reading afresh).
func (c *Map[K, V]) Forget() {
	c.mu.Lock()
	c.m = nil
	c.mu.Unlock()
}

// Len is how many keys are kept.
func (c *Map[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
