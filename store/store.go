// Package store defines the storage smsgate needs — short-lived records,
// atomic counters and lasting records — in a shape that both an embedded
// database (Badger) and a network one (Redis: SET PX, SET NX, GETDEL, INCR)
// implement directly, so the gate's logic never depends on which one runs.
package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"
)

// ErrNotFound is returned when a key does not exist or has expired.
var ErrNotFound = errors.New("store: not found")

// Store is a key-value store with per-key expiry. A ttl of 0 means the
// record lasts until deleted. Implementations must be safe for concurrent use,
// and every method must be atomic on its own key.
type Store interface {
	// Get returns the value of key, or ErrNotFound.
	Get(ctx context.Context, key string) ([]byte, error)
	// Put writes key unconditionally.
	Put(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// PutIfAbsent writes key only if it does not exist yet and reports
	// whether it wrote. Two instances racing to create a key agree on one value.
	PutIfAbsent(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error)
	// Take returns the value of key and deletes it in one step, or
	// ErrNotFound: of several concurrent callers, exactly one gets the value.
	Take(ctx context.Context, key string) ([]byte, error)
	// Delete removes the record or counter at key; deleting a missing key
	// is not an error. (A sliding window is emptied by ClearWindow.)
	Delete(ctx context.Context, key string) error
	// Incr adds one to the counter at key and returns the new value. A new
	// counter starts at 1 and expires after ttl; later increments keep
	// the original expiry, so a counter is a fixed window.
	Incr(ctx context.Context, key string, ttl time.Duration) (int64, error)
	// Update changes the record at key in one atomic step: it calls
	// change with the record's value (nil and false when there is none)
	// and writes what change returns: a value and its ttl, or nil to
	// delete the record. If another writer changed the record in between,
	// it reads it again and calls change again, so change must only
	// compute (it may run several times). ErrUnchanged from change leaves
	// the record as it is and Update returns nil; another error is
	// returned, and nothing is written. Of concurrent updates of one
	// record, each sees the one before: none is lost.
	Update(ctx context.Context, key string, change func(old []byte, found bool) (value []byte, ttl time.Duration, err error)) error
	// Slide records event id at now in the sliding window at key, if fewer
	// than limit events were recorded there in the window before now. When
	// it refuses, wait is how long until the oldest event leaves the
	// window; a refused event is not recorded. Of concurrent callers, at
	// most limit succeed in any window. One key may be counted with
	// several windows (two gates on one store with another window for one
	// limit): an event is kept as long as the longest window it was
	// counted with, so that a short window never hides from a long one an
	// event it counts.
	Slide(ctx context.Context, key, id string, limit int, window time.Duration, now time.Time) (ok bool, wait time.Duration, err error)
	// Window counts the events of the sliding window at key within span
	// before now, recording none (a window read whatever its limit: the
	// previous release's global budget, counted beside a realm's); wait
	// is how long until the oldest of them leaves it (0 when it holds
	// none).
	Window(ctx context.Context, key string, span time.Duration, now time.Time) (n int, wait time.Duration, err error)
	// Unslide removes event id from the window at key (a refund);
	// removing a missing event is not an error.
	Unslide(ctx context.Context, key, id string) error
	// ClearWindow empties the sliding window at key: every event in it
	// goes (the next Slide finds it empty, after a restart too), and one
	// counted at once is counted after or cleared with the rest, never
	// half; clearing an empty window is not an error.
	ClearWindow(ctx context.Context, key string) error
	// Counter reads the counter at key without changing it; 0 if missing.
	Counter(ctx context.Context, key string) (int64, error)
	// Scan calls fn for every live key under prefix, in no set order (for
	// the admin's tools: listings, export; never on a request's path).
	Scan(ctx context.Context, prefix string, fn func(key string, value []byte) error) error
}

// AllOrNothing is a store that writes several lasting records in one
// step, all of them or none (for an import, which must not stop half-way
// written): Badger in one transaction, a Redis server (or Sentinel's
// master) in MULTI/EXEC.
type AllOrNothing interface {
	// PutAll writes each record (key → value, no expiry), all or none, and
	// answers what the records of read (keys of records) held in the same
	// step, just before it wrote them (a key that held none is not in
	// held): what this write replaced, whatever another writer did before
	// or after it. A store that cannot here (a Redis Cluster, whose keys
	// span masters; more than one Badger transaction holds) writes nothing
	// and answers ErrNoTransaction: write them one by one.
	PutAll(ctx context.Context, records map[string][]byte, read ...string) (held map[string][]byte, err error)
}

// ErrNoTransaction is PutAll's answer where the store cannot write the
// records all or none; it wrote nothing.
var ErrNoTransaction = errors.New("store: these records cannot be written in one transaction")

// Key joins parts into a store key. Parts are escaped so that a user name
// containing the separator cannot reach into another user's records.
func Key(parts ...string) string {
	n := 0
	for _, p := range parts {
		n += len(p) + 1
	}
	b := make([]byte, 0, n)
	for i, p := range parts {
		if i > 0 {
			b = append(b, '/')
		}
		for j := 0; j < len(p); j++ {
			c := p[j]
			switch c {
			case '/', '%':
				b = append(b, '%', "0123456789ABCDEF"[c>>4], "0123456789ABCDEF"[c&15])
			default:
				b = append(b, c)
			}
		}
	}
	return string(b)
}

// SplitKey is Key's inverse: the parts Key joined into key, ok false for
// a key Key does not write. Key escapes only '/' and '%', as %2F and %25
// (upper-case), so any other '%' ("%2f", "%68", "%zz", a lone '%') is
// refused: a key has one spelling, and parts that come back name the
// record read (Key(parts...) == key), never another spelling of it that
// no gate reads. Key() and Key("") are both "": it splits to one empty
// part.
func SplitKey(key string) (parts []string, ok bool) {
	parts = strings.Split(key, "/")
	for i, p := range parts {
		if !strings.Contains(p, "%") {
			continue
		}
		var b strings.Builder
		for j := 0; j < len(p); j++ {
			switch {
			case p[j] != '%':
				b.WriteByte(p[j])
			case strings.HasPrefix(p[j:], "%2F"):
				b.WriteByte('/')
				j += 2
			case strings.HasPrefix(p[j:], "%25"):
				b.WriteByte('%')
				j += 2
			default:
				return nil, false
			}
		}
		parts[i] = b.String()
	}
	return parts, true
}

type lastingKey struct{}

// Lasting marks the writes made with ctx as ones the user is told have
// happened (an enrollment, a device change, a revocation, a reset): a
// store that could lose its latest writes to a power cut makes these
// durable before it returns. Short-lived records (challenges, counters)
// are written without it: losing one costs a user a new code at worst.
func Lasting(ctx context.Context) context.Context {
	return context.WithValue(ctx, lastingKey{}, true)
}

// IsLasting reports whether ctx was marked by Lasting.
func IsLasting(ctx context.Context) bool {
	v, _ := ctx.Value(lastingKey{}).(bool)
	return v
}

// Same reports whether a and b are one store: the same value, or two
// values over one database. Each gate loads a store module of its own, so
// the gates of one config on one Badger folder hold a *Badger each over
// the folder's one open database, and gates on one Redis (server,
// database and key prefix) a *Redis each. A value of a type that cannot
// be compared is the same as nothing (never a panic).
func Same(a, b Store) bool {
	ia, ib := identity(a), identity(b)
	return ia != nil && ia == ib
}

// Which names the database s stands for, as Same tells stores apart, for
// what a process keeps per store (a log line's throttle): "" for a store
// Same cannot compare. It holds nothing alive, and is never logged (a
// Redis's names its addresses).
func Which(s Store) string {
	id := identity(s)
	switch v := reflect.ValueOf(id); {
	case id == nil:
		return ""
	case v.Kind() == reflect.Pointer:
		return fmt.Sprintf("%T %p", id, id)
	default:
		return fmt.Sprintf("%T %v", id, id)
	}
}

// shared is a store that names what it stores in, for Same.
type shared interface{ sharedIdentity() any }

// identity is what Same compares: the database a store module stands
// for, or the store itself; nil for none, or one that cannot be compared.
func identity(s Store) any {
	if sh, ok := s.(shared); ok {
		return sh.sharedIdentity()
	}
	if s == nil || !reflect.ValueOf(s).Comparable() {
		return nil
	}
	return s
}

// Opener is a store module that opens its database (a folder, a
// connection) apart from Provision: Caddy provisions a config at `caddy
// validate` too, which must open no store; the gate opens its store at its
// own Provision, except there.
type Opener interface {
	// Open opens the store; once it is open, again answers at once.
	Open(ctx context.Context) error
}

// Open opens st where it is an Opener; any other store is open already.
func Open(ctx context.Context, st Store) error {
	if o, ok := st.(Opener); ok {
		return o.Open(ctx)
	}
	return nil
}
