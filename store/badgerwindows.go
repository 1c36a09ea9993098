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
//
// A send's key is kept, and says in its value, as long as the longest
// span its window was counted with; a longer span counting the window
// first writes its sends' keys again with it (keepLonger), so that what a
// short window counted first outlives neither a restart nor the sweep
// only by that short span (a long window counted first after either would
// not find it).

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
	// shortKept: some of its sends' keys, read from disk, may be kept for
	// a shorter span than keep (the releases before this one wrote them
	// so when a short window counted first), for the first count to keep
	// them longer (keepLonger).
	shortKept bool
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
	if limit < 1 {
		return false, span, nil
	}
	// One key may be counted with several spans (two gates on one store
	// with another window for one limit): a send is forgotten only once
	// the longest of them has passed, so that a short window never hides
	// from a long one the sends it counts.
	if keep := max(w.keep, int64(span)); keep > w.keep || w.shortKept {
		if err := ws.keepLonger(key, w, keep, t); err != nil {
			return false, 0, err
		}
	}
	if w.oldExpires != 0 {
		w.oldUntil, w.oldExpires = t+int64(time.Until(time.Unix(int64(w.oldExpires)+1, 0))), 0
	}
	if t >= w.oldUntil {
		w.drop(t - w.keep)
	}
	live := w.events[w.head:]
	live = live[sort.Search(len(live), func(i int) bool { return live[i].at > t-int64(span) }):]
	if len(live) >= limit {
		return false, time.Duration(live[len(live)-limit].at + int64(span) - t), nil
	}
	e := badger.NewEntry(eventKey(key, t, id), binary.BigEndian.AppendUint64(nil, uint64(w.keep)))
	e.ExpiresAt = keptUntil(time.Duration(w.keep))
	if err := ws.db.update(ctx, func(txn *badger.Txn) error { return txn.SetEntry(e) }); err != nil {
		return false, 0, err
	}
	w.add(event{t, idHash(id)})
	w.expires = max(w.expires, e.ExpiresAt)
	return true, 0, nil
}

// keepLonger raises w's keep to keep (at t, the caller's clock), on disk
// first: each send's key written with a shorter span (a short window
// counted first) is written again with this one, its value and its
// expiry, so that neither a restart nor the sweep forgets, before a long
// window has passed, a send it counts. A key that records no keep (from
// the releases before keeps were recorded) keeps none, and so its place in
// oldUntil; no key's expiry is brought forward.
func (ws *windows) keepLonger(key string, w *window, keep, t int64) error {
	if w.head == len(w.events) {
		w.keep, w.shortKept = keep, false // nothing on disk to keep longer
		return nil
	}
	var longer []*badger.Entry
	err := ws.eachSend(key, func(item *badger.Item, at int64, _ string, v []byte) {
		expires := keptUntil(time.Duration(at + keep - t))
		if item.ExpiresAt() == 0 || expires <= item.ExpiresAt() {
			return
		}
		e := badger.NewEntry(item.KeyCopy(nil), nil) // none recorded: see above
		if len(v) == 8 {
			e.Value = binary.BigEndian.AppendUint64(nil, uint64(keep))
		}
		e.ExpiresAt = expires
		longer = append(longer, e)
	})
	if err == nil && len(longer) > 0 {
		err = ws.writeAll(longer)
	}
	if err != nil {
		return err
	}
	for _, e := range longer {
		w.expires = max(w.expires, e.ExpiresAt)
	}
	w.keep, w.shortKept = keep, false
	return nil
}

// keptUntil is the expiry of a send's key kept for d from now: Badger
// keeps it in whole seconds, and a key is gone from the second it names,
// so the second after the one d ends in (rounded down, as an Entry's
// WithTTL does, the key was gone up to a second before its window stopped
// counting it: a restart then, or a longer window's keepLonger, which
// reads the keys on disk, lost a send the window counted).
func keptUntil(d time.Duration) uint64 { return uint64(time.Now().Add(d).Unix()) + 1 }

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
	seen := map[string]bool{}
	err := ws.eachSend(key, func(item *badger.Item, at int64, id string, v []byte) {
		w.events = append(w.events, event{at, idHash(id)})
		w.expires = max(w.expires, item.ExpiresAt())
		// The span it was kept for; none from the previous release,
		// whose sends are kept until their keys expire (oldUntil).
		if len(v) == 8 {
			keep := int64(binary.BigEndian.Uint64(v))
			w.shortKept = w.shortKept || keep != w.keep && w.keep != 0
			w.keep = max(w.keep, keep)
		} else {
			w.oldExpires = max(w.oldExpires, item.ExpiresAt())
			w.shortKept = true // kept for the span it was counted with
		}
		seen[id] = true
	})
	if err == nil {
		err = ws.migrate(key, w, seen)
	}
	if err != nil {
		w.events, w.expires, w.keep, w.oldExpires, w.shortKept = nil, 0, 0, 0, false
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
	var moved []*badger.Entry
	for i, id := range old.IDs {
		if seen[id] {
			continue
		}
		w.events = append(w.events, event{old.Times[i], idHash(id)})
		e := badger.NewEntry(eventKey(key, old.Times[i], id), nil)
		e.ExpiresAt = expires
		moved = append(moved, e)
	}
	w.expires = max(w.expires, expires)
	w.oldExpires = max(w.oldExpires, expires)
	if err := ws.writeAll(moved); err != nil {
		return err
	}
	return ws.db.db.Update(func(txn *badger.Txn) error { return txn.Delete([]byte(key)) })
}

// writeAll writes entries in as many transactions as they take (a
// window's sends may be more than one holds); they read nothing, so none
// conflicts, and only the window's lock holder writes its keys.
func (ws *windows) writeAll(entries []*badger.Entry) error {
	if err := ws.db.disk.refuses(); err != nil {
		return err
	}
	batch := ws.db.db.NewWriteBatch()
	defer batch.Cancel()
	for _, e := range entries {
		if err := batch.SetEntry(e); err != nil {
			return err
		}
	}
	return batch.Flush()
}

// eachSend calls fn with each send's key of window key on disk: its item,
// time, ID and value (8 bytes: the span it is kept for; else none is
// recorded), valid during the call.
func (ws *windows) eachSend(key string, fn func(item *badger.Item, at int64, id string, v []byte)) error {
	prefix := eventPrefix(key)
	return ws.db.db.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix, opts.PrefetchValues = []byte(prefix), false
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			at, id, ok := parseSend(string(item.Key()[len(prefix):]))
			if !ok {
				continue // not a send's key
			}
			if err := item.Value(func(v []byte) error { fn(item, at, id, v); return nil }); err != nil {
				return err
			}
		}
		return nil
	})
}

// parseSend reads a send's key past its window's prefix: its time and ID.
func parseSend(rest string) (int64, string, bool) {
	at, err := strconv.ParseUint(rest[:min(16, len(rest))], 16, 64)
	if err != nil || len(rest) < 17 || rest[16] != '/' {
		return 0, "", false
	}
	return int64(at), rest[17:], true
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
