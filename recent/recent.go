// Package recent keeps a realm's recent audit events for the admin's
// console: a bounded ring, newest last, in one record per realm. Events
// are kept in memory as they happen and added every few seconds to the
// record (Store.Update: every instance on a shared store adds to the same
// ring, and none overwrites another's), so that the console reads one
// record, never the log. What an event holds is what the log line holds:
// numbers masked, names as given.
package recent

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
)

// Size is how many events a realm's ring keeps; the oldest go first.
const Size = 500

// keep is how long a ring no event reaches is kept.
const keep = 30 * 24 * time.Hour

// Event is one audit event as the console shows it.
type Event struct {
	Time time.Time `json:"time"`
	Kind string    `json:"kind"`           // the audit event: signed_in, code_wrong, locked_out, admin_reset, …
	User string    `json:"user,omitempty"` // whom it is about
	// Phone is masked (+1•••••••2671), as in the log.
	Phone string `json:"phone,omitempty"`
	// By is the admin who did it (console and admin API actions).
	By string `json:"by,omitempty"`
	// Detail is the log line's other fields, as key=value.
	Detail string `json:"detail,omitempty"`
}

// Ring is a realm's recent events: those of this gate not yet in the
// store, and the store's record.
type Ring struct {
	Store store.Store
	Realm string

	mu      sync.Mutex
	pending []Event
}

func (r *Ring) key() string { return store.Key("recent", r.Realm) }

// Add notes e; Flush adds it to the store's ring.
func (r *Ring) Add(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pending = append(r.pending, e)
	if len(r.pending) > Size { // a burst beyond the ring: only the newest count
		r.pending = append(r.pending[:0:0], r.pending[len(r.pending)-Size:]...)
	}
}

// Flush adds the pending events to the store's ring; on an error they
// stay for the next try.
func (r *Ring) Flush(ctx context.Context) error {
	r.mu.Lock()
	batch := r.pending
	r.pending = nil
	r.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	err := r.Store.Update(ctx, r.key(), func(old []byte, found bool) ([]byte, time.Duration, error) {
		var list []Event
		if found {
			_ = json.Unmarshal(old, &list) // an unreadable ring starts again
		}
		list = merge(list, batch)
		raw, err := json.Marshal(list)
		return raw, keep, err
	})
	if err != nil {
		r.mu.Lock()
		r.pending = append(batch, r.pending...)
		if len(r.pending) > Size {
			r.pending = r.pending[len(r.pending)-Size:]
		}
		r.mu.Unlock()
	}
	return err
}

// merge adds batch to list in time order and keeps the newest Size.
func merge(list, batch []Event) []Event {
	out := make([]Event, 0, len(list)+len(batch))
	i, j := 0, 0
	for i < len(list) || j < len(batch) {
		if j == len(batch) || i < len(list) && !list[i].Time.After(batch[j].Time) {
			out = append(out, list[i])
			i++
		} else {
			out = append(out, batch[j])
			j++
		}
	}
	if len(out) > Size {
		out = out[len(out)-Size:]
	}
	return out
}

// Run flushes every interval until stopped; stop flushes once more.
func (r *Ring) Run(every time.Duration, failed func(error)) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				// Bounded: a store that hangs must not hold up the stop
				// (a config reload waits for it).
				ctx, cancel := context.WithTimeout(context.Background(), every)
				if err := r.Flush(ctx); err != nil {
					failed(err)
				}
				cancel()
			case <-done:
				return
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			<-finished
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			if err := r.Flush(ctx); err != nil {
				failed(err)
			}
		})
	}
}

// Filter chooses events: by user (exactly) and kind (a prefix: "admin_"
// is every admin action; or any of Kinds, prefixes too); empty matches
// all.
type Filter struct {
	User, Kind string
	Kinds      []string
}

func (f Filter) match(e Event) bool {
	if f.User != "" && e.User != f.User && e.By != f.User {
		return false
	}
	if f.Kind == "" && len(f.Kinds) == 0 {
		return true
	}
	return f.Kind != "" && strings.HasPrefix(e.Kind, f.Kind) || slices.ContainsFunc(f.Kinds, func(p string) bool { return strings.HasPrefix(e.Kind, p) })
}

// Read flushes this gate's events and returns the ring's that f matches,
// newest first, at most limit.
func (r *Ring) Read(ctx context.Context, f Filter, limit int) ([]Event, error) {
	if err := r.Flush(ctx); err != nil {
		return nil, err
	}
	raw, err := r.Store.Get(ctx, r.key())
	if err == store.ErrNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var list []Event
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, nil
	}
	var out []Event
	for i := len(list) - 1; i >= 0 && len(out) < limit; i-- {
		if f.match(list[i]) {
			out = append(out, list[i])
		}
	}
	return out, nil
}
