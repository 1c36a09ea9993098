package store

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Badger's sliding windows. A window must know the time of every send it
// counts (a limit is exact and slides). Kept as one record, every send
// would read and rewrite all of them — a cost that grows with the window —
// and every sign-in in a country would conflict on the country's window.
// A Badger database belongs to one process, so a window lives in memory
// instead, under a lock of its own: a send costs the same whatever the
// window holds, and concurrent sends wait their turn for a few
// microseconds instead of conflicting. Each send is also written to disk
// as a key of its own, with the window's lifetime; a transaction that
// only writes never conflicts. A window is loaded from those keys the
// first time it is used after a start, so limits survive restarts.
//
// The previous release kept a window as one JSON record at the window's
// own key ({"i": IDs, "t": Unix ns}); such a record is read when its
// window is loaded, moved to the new layout, and removed. The release
// after it kept each send's key for the span that counted it, with no
// value: a window holding such keys (no keep recorded, see window.keep)
// forgets none of its sends before the last of those keys expires, so
// that a first count through a short window after the upgrade does not
// erase a long window's history.

// windows are one database's open windows, by key.
type windows struct {
	db   *badgerDB
	mu   sync.Mutex
	open map[string]*window
}

// window is one sliding window's sends, oldest first from head.
type window struct {
	mu     sync.Mutex
	loaded bool
	gone   bool // swept: whoever still holds it looks it up again
	events []event
	head   int
	// keep is the longest span the window was counted with (ns): its
	// sends are kept that long, whatever span a caller counts them in.
	keep int64
	// oldUntil is when the sends of the previous release, which recorded
	// no keep, may be forgotten (the caller's clock, ns): until then none
	// is (oldExpires, set by load, is their keys' expiry on disk, read
	// into oldUntil at the first count).
	oldUntil   int64
	oldExpires uint64
	// expires is when the last of its keys on disk expires (Unix seconds):
	// past it, memory may forget the window, as the disk has.
	expires uint64
}

// event is one send: its time and a hash of its ID (16 bytes in memory
// whatever the ID; a refund names the ID, which gives its key on disk).
type event struct {
	at int64 // Unix ns, the caller's clock
	id uint64
}

func idHash(id string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return h.Sum64()
}

// eventKey is where one send of window key is kept on disk. The window's
// key is escaped (no "/" in it), so one window's prefix holds no other's.
func eventKey(key string, at int64, id string) []byte {
	return fmt.Appendf(nil, "%s%016x/%s", eventPrefix(key), uint64(at), id)
}

func eventPrefix(key string) string { return Key("window", key) + "/" }

func (ws *windows) slide(ctx context.Context, key, id string, limit int, span time.Duration, now time.Time) (bool, time.Duration, error) {
	w, err := ws.get(key)
	if err != nil {
		return false, 0, err
	}
	defer w.mu.Unlock()
	t := now.UnixNano()
	// One key may be counted with several spans (two gates on one store
	// with another window for one limit): a send is forgotten only once
	// the longest of them has passed, so that a short window never hides
	// from a long one the sends it counts.
	w.keep = max(w.keep, int64(span))
	if w.oldExpires != 0 {
		w.oldUntil, w.oldExpires = t+int64(time.Until(time.Unix(int64(w.oldExpires)+1, 0))), 0
	}
	if t >= w.oldUntil {
		w.drop(t - w.keep)
	}
	live := w.events[w.head:]
	live = live[sort.Search(len(live), func(i int) bool { return live[i].at > t-int64(span) }):]
	if limit < 1 {
		return false, span, nil
	}
	if len(live) >= limit {
		return false, time.Duration(live[len(live)-limit].at + int64(span) - t), nil
	}
	e := entry("", binary.BigEndian.AppendUint64(nil, uint64(w.keep)), time.Duration(w.keep))
	e.Key = eventKey(key, t, id)
	if err := ws.db.update(ctx, func(txn *badger.Txn) error { return txn.SetEntry(e) }); err != nil {
		return false, 0, err
	}
	w.add(event{t, idHash(id)})
	w.expires = max(w.expires, e.ExpiresAt)
	return true, 0, nil
}

func (ws *windows) unslide(ctx context.Context, key, id string) error {
	w, err := ws.get(key)
	if err != nil {
		return err
	}
	defer w.mu.Unlock()
	h := idHash(id)
	for i := len(w.events) - 1; i >= w.head; i-- { // a refund is of a recent send
		if w.events[i].id == h {
			k := eventKey(key, w.events[i].at, id)
			if err := ws.db.update(ctx, func(txn *badger.Txn) error { return txn.Delete(k) }); err != nil {
				return err
			}
			w.events = slices.Delete(w.events, i, i+1)
			return nil
		}
	}
	return nil
}

// get returns key's window, loaded and locked.
func (ws *windows) get(key string) (*window, error) {
	for {
		ws.mu.Lock()
		w := ws.open[key]
		if w == nil {
			w = &window{}
			ws.open[key] = w
		}
		ws.mu.Unlock()
		w.mu.Lock()
		if w.gone {
			w.mu.Unlock()
			continue
		}
		if !w.loaded {
			if err := ws.load(key, w); err != nil {
				w.mu.Unlock()
				return nil, err
			}
			w.loaded = true
		}
		return w, nil
	}
}

// drop forgets the sends at or before since.
func (w *window) drop(since int64) {
	for w.head < len(w.events) && w.events[w.head].at <= since {
		w.events[w.head] = event{}
		w.head++
	}
	if w.head > 32 && w.head > len(w.events)/2 {
		w.events = append(w.events[:0], w.events[w.head:]...)
		w.head = 0
	}
}

// add records e in time order (concurrent callers' clocks were read a
// moment apart, so it goes at or near the end).
func (w *window) add(e event) {
	w.events = append(w.events, e)
	for i := len(w.events) - 1; i > w.head && w.events[i-1].at > e.at; i-- {
		w.events[i], w.events[i-1] = w.events[i-1], w.events[i]
	}
}

// load reads key's sends from disk: its keys, and a record the previous
// release wrote, which it moves to the new layout.
func (ws *windows) load(key string, w *window) error {
	prefix := eventPrefix(key)
	seen := map[string]bool{}
	err := ws.db.db.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix, opts.PrefetchValues = []byte(prefix), false
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			rest := string(it.Item().Key()[len(prefix):])
			at, err := strconv.ParseUint(rest[:min(16, len(rest))], 16, 64)
			if err != nil || len(rest) < 17 || rest[16] != '/' {
				continue // not a send's key
			}
			w.events = append(w.events, event{int64(at), idHash(rest[17:])})
			w.expires = max(w.expires, it.Item().ExpiresAt())
			// The span it was kept for; none from the previous release,
			// whose sends are kept until their keys expire (oldUntil).
			if err := it.Item().Value(func(v []byte) error {
				if len(v) == 8 {
					w.keep = max(w.keep, int64(binary.BigEndian.Uint64(v)))
				} else {
					w.oldExpires = max(w.oldExpires, it.Item().ExpiresAt())
				}
				return nil
			}); err != nil {
				return err
			}
			seen[rest[17:]] = true
		}
		return nil
	})
	if err == nil {
		err = ws.migrate(key, w, seen)
	}
	if err != nil {
		w.events, w.expires, w.keep, w.oldExpires = nil, 0, 0, 0
		return err
	}
	slices.SortStableFunc(w.events, func(a, b event) int { return cmp.Compare(a.at, b.at) })
	return nil
}

// migrate moves the window the previous release kept at key (one JSON
// record) to one key per send, and removes it. A move cut short leaves
// both, and the next load finishes it (seen: the sends already moved).
func (ws *windows) migrate(key string, w *window, seen map[string]bool) error {
	var old struct {
		IDs   []string `json:"i"`
		Times []int64  `json:"t"`
	}
	var expires uint64
	err := ws.db.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get([]byte(key))
		if err != nil {
			return err
		}
		expires = item.ExpiresAt()
		return item.Value(func(v []byte) error { return json.Unmarshal(v, &old) })
	})
	switch {
	case errors.Is(err, badger.ErrKeyNotFound):
		return nil
	case err != nil || len(old.IDs) != len(old.Times):
		return fmt.Errorf("window %q is unreadable", key)
	}
	if err := ws.db.disk.refuses(); err != nil {
		return err
	}
	batch := ws.db.db.NewWriteBatch()
	defer batch.Cancel()
	for i, id := range old.IDs {
		if seen[id] {
			continue
		}
		w.events = append(w.events, event{old.Times[i], idHash(id)})
		e := badger.NewEntry(eventKey(key, old.Times[i], id), nil)
		e.ExpiresAt = expires
		if err := batch.SetEntry(e); err != nil {
			return err
		}
	}
	w.expires = max(w.expires, expires)
	w.oldExpires = max(w.oldExpires, expires)
	if err := batch.Flush(); err != nil {
		return err
	}
	return ws.db.db.Update(func(txn *badger.Txn) error { return txn.Delete([]byte(key)) })
}

// sweep forgets the windows whose sends have all expired, on disk as in
// memory (idle users, IPs, numbers). A window in use is left for the next
// sweep.
func (ws *windows) sweep(now time.Time) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	for key, w := range ws.open {
		if w.mu.TryLock() {
			if w.expires < uint64(now.Unix()) {
				w.gone = true
				delete(ws.open, key)
			}
			w.mu.Unlock()
		}
	}
}
