package session

import (
	"cmp"
	"math/bits"
	"sync"
	"sync/atomic"

	"github.com/smsgate/caddy-smsgate/factor"
)

// Cache remembers verified session tokens, so a repeat visit costs a
// lookup instead of a signature check and a JSON parse. It is bounded; an
// entry is only served until its token expires.
//
// A repeat visit reads it on every admitted request, so reading takes no
// lock: the entries sit in a fixed table of slots, each a key and a
// pointer to an immutable entry, read with atomic loads (plain loads on
// amd64 and arm64). A map behind a sync.RWMutex cost two atomic adds and
// the map's own indirections, most of the lookup's time. Writers (a
// token verified, a logout, revocation news) take a mutex among
// themselves.
type Cache struct {
	table
	mu  sync.Mutex
	n   int // entries held (under mu)
	max int
	// held marks the buckets that may hold an entry (under mu), a bit
	// each: set when an entry is stored in its bucket, cleared by Forget
	// when it finds the bucket empty. Forget reads the buckets marked, not
	// the whole table (32,768 slots for CachedSessions, most of them
	// empty on most sites), unless the cache is an eighth full or more.
	held []uint64
	// forgets counts Remove and Forget calls (written under mu), matched
	// or not: a token checked against the store before one of them is not
	// cached after it (see AddSince).
	forgets atomic.Uint64
	amrs    func([]factor.AMR) uint8 // cacheEntry.amrs (Config.AMRs), or nil
}

// table is a cache's slots, made once and never moved: a reader may hold
// a copy of it (Repeat) and find the slots without reading the Cache.
type table struct {
	slots []slot // buckets of bucketSlots, one 64-byte line each
	shift uint   // 64 less the bits of the bucket's number
}

// bucketSlots is how many slots a token's key may take: the slots of one
// cache line, searched in turn. A full bucket drops the entry that expires
// first; a dropped token is simply verified again.
const bucketSlots = 4

// slot holds an entry and the key it was filed under. A reader may see
// the key of one entry beside another entry while a writer replaces it:
// harmless, as an entry is served only to the very token it holds.
type slot struct {
	key   atomic.Uint64
	entry atomic.Pointer[cacheEntry]
}

// cacheKey is the last 8 bytes of a token's signature (44 to 46 random
// bits in base64url: the last character carries 2 or 4), read as a
// number: finding the bucket hashes one word, not the whole ~300-byte
// token. It only finds the entry; Get serves the entry only to the very
// token it was made for (see cacheEntry).
type cacheKey uint64

// cacheEntry is a verified token and its claims, never changed once
// stored. A hit needs the whole token equal to the one verified, so a
// different or tampered token never gets another's claims: one that ends
// like a cached token but differs anywhere (its header, its claims, the
// rest of its signature) is a miss and is verified, and fails. Comparing
// is cheaper than hashing (memequal reads the bytes once, in wide words),
// so the key is short and the comparison whole.
type cacheEntry struct {
	token   string
	claims  *Claims
	expires int64 // Unix nanoseconds: no pointer to chase on a hit
	// lookup is the claims' facts' provider (claims.facts.Lookup): what a
	// repeat visit hands the request's replacer, read here without
	// reading the claims or the facts, two more lines of memory.
	lookup func(string) (any, bool)
	// amrs is claims.AMR as bits (Config.AMRs), in the entry's line too:
	// what a gate's factors are tested against on a repeat visit.
	amrs uint8
}

// init makes c a cache of at most max tokens (a Manager holds its cache
// in itself: one pointer less to follow on every request). Its table has
// at least twice as many slots, so that a bucket seldom fills before the
// cache does.
func (c *Cache) init(max int) {
	buckets := 1 << bits.Len(uint(max*2/bucketSlots)) // a power of two > max/2 buckets
	c.slots, c.shift, c.max = make([]slot, buckets*bucketSlots), uint(64-bits.Len(uint(buckets-1))), max
	c.held = make([]uint64, (buckets+63)/64)
}

// keyOf is a token's cache key; ok is false for a token too short to be
// one (never cached).
func keyOf(token string) (k cacheKey, ok bool) {
	if len(token) < 8 {
		return 0, false
	}
	// Byte by byte, little-endian: the compiler makes it one load.
	e := token[len(token)-8:]
	return cacheKey(e[0]) | cacheKey(e[1])<<8 | cacheKey(e[2])<<16 | cacheKey(e[3])<<24 |
		cacheKey(e[4])<<32 | cacheKey(e[5])<<40 | cacheKey(e[6])<<48 | cacheKey(e[7])<<56, true
}

// bucket is the slots key k may take. The key's bits are mixed first
// (Fibonacci hashing): its low bits are base64url's, few and uneven.
func (t *table) bucket(k cacheKey) []slot {
	b := t.bucketOf(k)
	return t.slots[b*bucketSlots : (b+1)*bucketSlots : (b+1)*bucketSlots]
}

// bucketOf is the number of key k's bucket.
func (t *table) bucketOf(k cacheKey) int {
	if t.shift < 64 {
		return int(uint64(k) * 0x9E3779B97F4A7C15 >> t.shift)
	}
	return 0
}

// get answers the entry of a token verified earlier that has not expired
// by now (Unix nanoseconds).
func (t *table) get(token string, now int64) *cacheEntry {
	k, ok := keyOf(token)
	if !ok {
		return nil
	}
	b := t.bucket(k)
	for i := range b {
		s := &b[i]
		if s.key.Load() != uint64(k) {
			continue
		}
		if e := s.entry.Load(); e != nil && e.token == token && now < e.expires {
			return e
		}
	}
	return nil
}

// Forgets is a mark for AddSince: read it before checking a token
// against the store.
func (c *Cache) Forgets() uint64 { return c.forgets.Load() }

// AddSince remembers verified claims, checked against the store after
// Forgets answered since. A token that ends like another replaces it (the
// other is verified again on its next use). When its bucket or the cache
// is full it drops an entry, the bucket's that expires first where it
// can; a dropped token is simply verified again. It remembers nothing if
// the cache forgot anything since then: a
// revocation written after that check (a logout, a sign-out everywhere)
// may have been applied here already, its news read, before the token was
// in the cache to forget; cached, it would be served until it expired.
// Not cached, it is checked against the store again on its next use.
func (c *Cache) AddSince(token string, cl *Claims, since uint64) {
	k, ok := keyOf(token)
	if !ok || cl.ExpiresAt == nil {
		return
	}
	e := &cacheEntry{token: token, claims: cl, expires: cl.ExpiresAt.UnixNano(), lookup: cl.Facts().Lookup}
	if c.amrs != nil {
		e.amrs = c.amrs(cl.AMR)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.forgets.Load() != since {
		return
	}
	var free, first *slot // an empty slot; the full one that expires first
	b := c.bucket(k)
	for i := range b {
		s := &b[i]
		switch old := s.entry.Load(); {
		case old == nil:
			free = cmp.Or(free, s)
		case s.key.Load() == uint64(k):
			s.entry.Store(e)
			return
		case first == nil || old.expires < first.entry.Load().expires:
			first = s
		}
	}
	switch {
	case free == nil:
		c.clear(first) // the bucket is full
		free = first
	case c.n >= c.max && first != nil:
		c.clear(first)
	case c.n >= c.max:
		for i := range c.slots {
			if c.slots[i].entry.Load() != nil {
				c.clear(&c.slots[i])
				break
			}
		}
	}
	// The entry before its key: a reader that sees the key sees the
	// entry, or the slot's previous one, which its token does not match.
	free.entry.Store(e)
	free.key.Store(uint64(k))
	c.n++
	n := c.bucketOf(k)
	c.held[n/64] |= 1 << (n % 64)
}

// clear empties a slot that holds an entry (under mu).
func (c *Cache) clear(s *slot) {
	s.entry.Store(nil)
	s.key.Store(0)
	c.n--
}

// Remove forgets one token (after logout).
func (c *Cache) Remove(token string) {
	k, ok := keyOf(token)
	if !ok {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.forgets.Add(1)
	b := c.bucket(k)
	for i := range b {
		if e := b[i].entry.Load(); e != nil && e.token == token {
			c.clear(&b[i])
		}
	}
}

// Forget forgets the tokens whose claims match (the sessions a
// revocation elsewhere named).
func (c *Cache) Forget(match func(*Claims) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.forgets.Add(1)
	if c.n >= len(c.slots)/8 { // most buckets hold an entry: read every slot
		for i := range c.slots {
			if e := c.slots[i].entry.Load(); e != nil && match(e.claims) {
				c.clear(&c.slots[i])
			}
		}
		return // the buckets emptied stay marked: a mark says "may hold"
	}
	for w := range c.held {
		for marked := c.held[w]; marked != 0; marked &= marked - 1 {
			bit := bits.TrailingZeros64(marked)
			b := w*64 + bit
			empty := true
			for i := b * bucketSlots; i < (b+1)*bucketSlots; i++ {
				switch e := c.slots[i].entry.Load(); {
				case e == nil:
				case match(e.claims):
					c.clear(&c.slots[i])
				default:
					empty = false
				}
			}
			if empty {
				c.held[w] &^= 1 << bit
			}
		}
	}
}

// Flush forgets every token: each is checked against the store again on
// its next use (after news the gate could not read, or a wiped store).
func (c *Cache) Flush() {
	c.Forget(func(*Claims) bool { return true })
}
