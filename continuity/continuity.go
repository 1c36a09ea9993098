// Package continuity notices when a store forgets. A store that comes back
// empty (a Redis restarted without persistence, a lost volume) must not
// re-open enrollment: whoever acts first with a first factor's password
// would enroll their own phone for an account whose owner's phone was
// lost with the store.
//
// The store holds an epoch record: an ID made when the store was new, and
// whether it has held users. Each gate remembers the epoch it last saw —
// in memory, and in a small file in Caddy's data directory, so that neither
// a wipe of the store nor a restart of Caddy erases it. When the store's
// record is gone, or is another epoch that no admin accepted, while the
// gate remembers users, the store is frozen: the record says so (so that
// every instance, even one that remembers nothing, sees it), and no new
// user enrolls until an admin accepts the new state (Accept) or restores
// an export.
//
// The limits: a gate that remembers nothing of a store (a new instance, or
// one whose data directory was lost too) cannot tell a wiped store from a
// new one, unless a gate that remembers has marked it frozen first.
package continuity

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
)

// Key is the store key of the epoch record.
const Key = "epoch"

// Record is the store's epoch record.
type Record struct {
	// ID names this state of the store: made when the store was new, or
	// when an admin accepted a new state.
	ID      string    `json:"id"`
	Created time.Time `json:"created"`
	// Users says the store has held users (devices) in this epoch.
	Users bool `json:"users,omitempty"`
	// Accepted says how an admin made this epoch ("accept-store",
	// "import"): every gate takes it, whatever it remembered.
	Accepted string `json:"accepted,omitempty"`
	// Frozen, when set, says the store lost its data under gates that had
	// seen users: no new user enrolls until an admin accepts.
	Frozen *Freeze `json:"frozen,omitempty"`
}

// Freeze is when and why a store was frozen.
type Freeze struct {
	Since  time.Time `json:"since"`
	Reason string    `json:"reason"`
}

// What a gate notices.
const (
	Wiped    = "the store came back without its data"
	Replaced = "the store holds another epoch that no admin accepted"
	// Evicted: a Redis whose maxmemory-policy evicts dropped keys; a
	// device may be gone while the epoch record stayed, and its user look
	// never enrolled.
	Evicted = "the store evicted keys to free memory: devices may be gone"
)

// Change is what a Check noticed.
type Change struct {
	// Frozen is set when this check froze the store or first saw it frozen.
	Frozen *Freeze
	// Renewed says the epoch changed (the store is not the one the gate's
	// caches were filled from); Accepted, that an admin made the new one.
	Renewed  bool
	Accepted string
}

// Watch is one gate's view of its store's epoch.
type Watch struct {
	st     store.Store
	marker *marker
	// Probe reports whether the store holds any user (at most one scan,
	// when a new epoch record is made).
	probe func(context.Context) (bool, error)
	now   func() time.Time
	// evicted is Options.Evicted; evictions, its last answer (-1: none yet).
	evicted   func(context.Context) (int64, error)
	evictions int64
	notice    func(Change) // Options.Notice

	mu  turns   // one Check, SawUsers or Accept at a time
	rec *Record // the store's record, as last read (under mu)
	// told is taken before mu is let go (show): what each turn found is
	// heard (notice) and shown (seen) in the turns' order, and no reader
	// waits while it is heard.
	told sync.Mutex
	seen atomic.Pointer[Record] // rec, once heard: what Frozen reads
}

// Options is what Open needs besides the store.
type Options struct {
	// Identity names the store (see Identity), so that each store has its
	// own memory ("": the Watch's own, in no file), Former as the previous
	// release did (its file is read where Identity's is missing); Dir is
	// the folder of the memory files ("": memory only).
	Identity, Former, Dir string
	// Probe reports whether the store holds any user.
	Probe func(context.Context) (bool, error)
	// Evicted, if the store can tell, is how many keys it has evicted so
	// far: a count that grows while it holds users freezes it.
	Evicted func(context.Context) (int64, error)
	Now     func() time.Time
	// Notice, if set, hears what each Check noticed (the gate's log and
	// alarms) before anyone can see it: Frozen does not report a freeze
	// until Notice has heard of it, so a page that refuses an enrollment
	// for it never comes before the alarm. It runs outside the Watch's
	// lock (a slow events handler holds no reader of Frozen: they see the
	// state before, meanwhile), and must not call the Watch.
	Notice func(Change)
}

// Open reads what the gate remembers of the store and checks the store.
func Open(ctx context.Context, st store.Store, o Options) (*Watch, Change, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Probe == nil {
		o.Probe = func(context.Context) (bool, error) { return false, nil }
	}
	w := &Watch{st: st, marker: openMarker(o.Dir, o.Identity, o.Former), probe: o.Probe, now: o.Now, evicted: o.Evicted, evictions: -1, notice: o.Notice,
		mu: make(turns, 1)}
	ch, err := w.Check(ctx)
	return w, ch, err
}

// MarkerError is the memory file's last failure to be written, if any (the
// gate still remembers in memory, but a restart would forget).
func (w *Watch) MarkerError() error { return w.marker.lastErr() }

// Frozen is the store's freeze as last seen (and heard: Options.Notice),
// or nil. It waits for nothing.
func (w *Watch) Frozen() *Freeze {
	if rec := w.seen.Load(); rec != nil {
		return rec.Frozen
	}
	return nil
}

// ID is the ID of the store's epoch record as last read ("" before one
// was, or for a nil Watch): gates whose stores are written differently
// but hold one record are on one store (admin's realm of gates).
func (w *Watch) ID() string {
	if w == nil {
		return ""
	}
	if rec := w.seen.Load(); rec != nil {
		return rec.ID
	}
	return ""
}

// show ends a turn that holds mu and found rec (and noticed ch, if not
// nil): the next turn may begin while ch is heard, and rec is shown only
// once it was, after every earlier turn's.
func (w *Watch) show(rec *Record, ch *Change) {
	w.told.Lock()
	w.mu.Unlock()
	defer w.told.Unlock()
	if ch != nil && w.notice != nil {
		w.notice(*ch)
	}
	w.seen.Store(rec)
}

// Check reads the store's epoch record and compares it with what the gate
// remembers: a new store gets a record; a record gone or replaced where the
// gate has seen users freezes the store.
func (w *Watch) Check(ctx context.Context) (Change, error) {
	w.mu.Lock()
	return w.turn(ctx)
}

// turn is a Check that holds mu, and lets it go.
func (w *Watch) turn(ctx context.Context) (Change, error) {
	rec, ch, err := w.check(ctx)
	if err != nil {
		w.mu.Unlock()
		return Change{}, err
	}
	w.show(rec, &ch)
	return ch, nil
}

// check is Check's turn, under mu: a look, and another (3 in all) where a
// freeze it wrote found the record changed since its read (ErrChanged).
func (w *Watch) check(ctx context.Context) (*Record, Change, error) {
	for range 3 {
		if rec, ch, err := w.look(ctx); !errors.Is(err, ErrChanged) {
			return rec, ch, err
		}
	}
	return nil, Change{}, errors.New("the store's epoch record changed under each of 3 looks (other gates or an admin writing it): the next look tries again")
}

// look reads the record and decides; a freeze it writes is written only
// over the record it read (was), so that an admin's accept or another
// gate's freeze written since is never undone by a record read before it.
func (w *Watch) look(ctx context.Context) (*Record, Change, error) {
	rec, was, err := w.read(ctx)
	if err != nil {
		return nil, Change{}, err
	}
	mem := w.marker.get()
	var ch Change
	switch {
	case rec == nil && !mem.Users:
		// A new store, or one that held no users when it was lost: nothing
		// to protect. Every gate that finds it so agrees on one record.
		if rec, was, err = w.create(ctx); err != nil {
			return nil, Change{}, err
		}
		ch.Renewed = mem.ID != "" && mem.ID != rec.ID
	case rec == nil:
		frozen := &Record{ID: mem.ID, Created: w.now().UTC(), Users: true, Frozen: &Freeze{Since: w.now().UTC(), Reason: Wiped}}
		if rec, was, err = w.putIfAbsent(ctx, frozen); err != nil {
			return nil, Change{}, err
		}
		ch.Renewed = true
	case rec.Frozen != nil || mem.ID == "" || rec.ID == mem.ID:
		ch.Renewed = mem.ID != "" && rec.ID != mem.ID
	case rec.Accepted != "" || !mem.Users:
		ch.Renewed, ch.Accepted = true, rec.Accepted
	default:
		// Another epoch, made by a gate that remembered nothing, where this
		// one had seen users: the store was replaced under it.
		rec.Users, rec.Frozen = true, &Freeze{Since: w.now().UTC(), Reason: Replaced}
		if was, err = w.putOver(ctx, was, rec); err != nil {
			return nil, Change{}, err
		}
		ch.Renewed = true
	}
	if err := w.checkEvictions(ctx, rec, was); err != nil {
		return nil, Change{}, err
	}
	if rec.Frozen != nil && (w.rec == nil || w.rec.Frozen == nil || ch.Renewed) {
		ch.Frozen = rec.Frozen
	}
	w.rec = rec
	w.marker.set(memory{ID: rec.ID, Users: mem.Users && rec.ID == mem.ID || rec.Users})
	return rec, ch, nil
}

// checkEvictions freezes rec, a store that holds users, when it evicted keys
// since the last look (the first look only takes the count: what it
// evicted before, the warning at start is about); was is rec as the store
// holds it.
func (w *Watch) checkEvictions(ctx context.Context, rec *Record, was []byte) error {
	if w.evicted == nil {
		return nil
	}
	n, err := w.evicted(ctx)
	if err != nil {
		return nil // a server that will not say (INFO refused): the warning at start stands
	}
	last := w.evictions
	if last < 0 || n <= last || rec.Frozen != nil || !(rec.Users || w.marker.get().Users) {
		w.evictions = n
		return nil // none new (a count that went back: another master), or nothing to protect
	}
	frozen := *rec
	frozen.Users, frozen.Frozen = true, &Freeze{Since: w.now().UTC(), Reason: Evicted}
	if _, err := w.putOver(ctx, was, &frozen); err != nil {
		return err // the count stays as it was: the next look freezes
	}
	*rec, w.evictions = frozen, n
	return nil
}

// SawUsers records that the store holds users now (a first enrollment, an
// admin's provisioning or import): from now on, losing them freezes it.
func (w *Watch) SawUsers(ctx context.Context) error {
	w.mu.Lock()
	if w.rec == nil || w.rec.Users {
		w.mu.Unlock()
		return nil
	}
	// Users are added to the store's record as it is now, not to the one
	// this gate last read: another gate may have frozen it since
	// (evictions), and a record written back from memory took the freeze
	// away (TestAFreezeOutlivesAnotherGatesFirstUsers). Another epoch, made
	// since by a gate that found the store empty, holds these users too: it
	// gets them, and this gate's memory stays as it was (no users in its
	// epoch), so that its next look takes the new epoch as one that
	// replaced an empty store (Renewed) and remembers its users from the
	// record. None (a wipe no look has seen yet) is left to the next look,
	// which makes a record and finds the users (Probe). Remembering users
	// under the old ID instead froze the store at the next look, as if the
	// new epoch had replaced them (TestAFirstUserInAnEpochMadeMeanwhile).
	same := false
	err := w.st.Update(store.Lasting(ctx), Key, func(raw []byte, found bool) ([]byte, time.Duration, error) {
		if !found {
			return nil, 0, store.ErrUnchanged
		}
		cur, err := Decode(raw)
		if err != nil {
			return nil, 0, store.ErrUnchanged
		}
		if same = cur.ID == w.rec.ID; cur.Users {
			return nil, 0, store.ErrUnchanged
		}
		cur.Users = true
		raw, err = json.Marshal(cur)
		return raw, 0, err
	})
	if err != nil || !same {
		w.mu.Unlock()
		return err
	}
	rec := *w.rec
	rec.Users = true
	w.rec = &rec
	w.marker.set(memory{ID: rec.ID, Users: true})
	w.show(&rec, nil)
	return nil
}

// create makes a new store's record: PutIfAbsent, so that gates starting
// together agree on one.
func (w *Watch) create(ctx context.Context) (*Record, []byte, error) {
	users, err := w.probe(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("looking for users in the store: %v", err)
	}
	return w.putIfAbsent(ctx, &Record{ID: newID(), Created: w.now().UTC(), Users: users})
}

// read is the store's record (nil if none), and as the store holds it.
func (w *Watch) read(ctx context.Context) (*Record, []byte, error) {
	raw, err := w.st.Get(ctx, Key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	rec, err := Decode(raw)
	return rec, raw, err
}

// Decode reads an epoch record as the store holds it (under Key).
func Decode(raw []byte) (*Record, error) {
	rec := new(Record)
	if err := json.Unmarshal(raw, rec); err != nil || rec.ID == "" {
		return nil, fmt.Errorf("the store's epoch record is unreadable")
	}
	return rec, nil
}

// Trusted is since when what the store holds can be believed whole: its
// epoch's start, or the freeze's if one came later (keys evicted, or
// replaced under the gate: the record keeps its creation, but records may
// be gone since the freeze).
func (rec *Record) Trusted() time.Time {
	if rec.Frozen != nil && rec.Frozen.Since.After(rec.Created) {
		return rec.Frozen.Since
	}
	return rec.Created
}

// putIfAbsent writes rec unless a record is there, and returns the one
// that is (and as the store holds it).
func (w *Watch) putIfAbsent(ctx context.Context, rec *Record) (*Record, []byte, error) {
	raw, _ := json.Marshal(rec)
	if _, err := w.st.PutIfAbsent(store.Lasting(ctx), Key, raw, 0); err != nil {
		return nil, nil, err
	}
	got, was, err := w.read(ctx)
	if err == nil && got == nil {
		err = errors.New("the store's epoch record vanished as it was written")
	}
	return got, was, err
}

// putOver writes rec only over was, the record as read (nil: none), in one
// atomic update, and returns it as written; ErrChanged if the store holds
// another record now.
func (w *Watch) putOver(ctx context.Context, was []byte, rec *Record) ([]byte, error) {
	raw, _ := json.Marshal(rec)
	return raw, w.st.Update(store.Lasting(ctx), Key, func(cur []byte, found bool) ([]byte, time.Duration, error) {
		if found != (was != nil) || !bytes.Equal(cur, was) {
			return nil, 0, ErrChanged
		}
		return raw, 0, nil
	})
}

func newID() string { return rand.Text()[:16] }
