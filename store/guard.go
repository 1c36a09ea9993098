package store

import (
	"bytes"
	"context"
	"errors"
	"sync"

	"github.com/dgraph-io/badger/v4"
)

// A guard closes the window between a check and the change it lets in: a
// session's POST is made once the store says the session still lives
// (one read of its ends: session.Manager.LiveGuard), and a revocation
// written at another instance between that read and the change's write
// let the change through (attack34b: 8–11 ms across two Caddy
// processes). The reads ride with the request's ctx (WithGuard), and the
// change's first lasting write (a ctx marked Lasting) is made only if
// every record read still holds what it held, in the same atomic step
// as the write: Badger reads them in the write's transaction (a
// revocation committed meanwhile is a conflict, and the retry finds it),
// a Redis server checks them in the script that writes (a claim's
// check-only parts). So a revocation is either before the change, which
// is refused (ErrGuardBroken), or after it: the change stands, and the
// revocation ends the session anyway. A change is a few writes; the first
// that writes decides, and spends the guard: the writes after it follow
// (a removal's ends must not be refused half-way); writes that only
// prepare it (Preparing) are checked and spend nothing. Once broken, every
// guarded write after refuses at once. Writes that are not changes
// (counters, windows, a short-lived record: no Lasting; Incr, Slide,
// ClearWindow whatever the ctx) pass unguarded. A batch (store.Do) is
// guarded as its writes alone are: on Badger each through the store's
// methods; on a Redis server its writes (Put, Delete, Swap, PutIfAbsent,
// a claim) in one script after the guard's checks, in the batch's own
// pipeline (guardBatch: no round trip more), all written where the
// records hold, none where one changed; a batch with a Take, or on a
// Cluster over several slots, one write after another through the
// store's methods (so too where the script is refused TRYAGAIN: its
// slot mid-move). On a Redis Cluster the guard's records and the
// write's are in different slots (no hash tag in their keys; a session's
// and a trust's ends are named by their IDs), which no script holds
// together: the records are read side by side in one round trip just
// before the write (checkThenClaim), and a revocation landing between
// that read and the write lets the change through (SECURITY.md;
// TestAGuardOnAClusterChecksBeforeItsWrite). The admin API and the CLI
// have no session, and so no guard.
type Guard struct {
	reads  []*Op // Gets, done
	mu     sync.Mutex
	spent  bool
	broken bool
	// of is the guard a preparation's check stands for (Preparing): its
	// outcome breaks of, and spends nothing.
	of *Guard
}

// ErrGuardBroken answers a guarded write refused: a record the change
// was let in on changed since it was read (the session ended meanwhile).
// Nothing was written.
var ErrGuardBroken = errors.New("store: a record the change was allowed by changed before it was written")

type guardKey struct{}

type preparingKey struct{}

// Preparing marks the writes made with ctx as a change's preparations,
// made before the write that changes what the user holds (a removal's
// tombstone and owed notice, a reset's revocation, a passkey's credential
// claim): guarded, they are checked as that write is but spend no guard,
// so the write that makes the change is checked too. Before, the
// tombstone spent it, and a revocation landing after it let the removal
// through (review36b F2); the claim, the passkey's listing (guard38).
func Preparing(ctx context.Context) context.Context {
	return context.WithValue(ctx, preparingKey{}, true)
}

// NewGuard is a guard of the records reads (Gets of a batch done; nil
// ones are skipped) found.
func NewGuard(reads ...*Op) *Guard {
	g := &Guard{}
	for _, r := range reads {
		if r != nil {
			g.reads = append(g.reads, r)
		}
	}
	return g
}

// WithGuard is ctx whose lasting writes g guards (nil: none, as a store
// calling itself inside a guarded write needs).
func WithGuard(ctx context.Context, g *Guard) context.Context {
	return context.WithValue(ctx, guardKey{}, g)
}

// Broken reports whether a guarded write was refused (ErrGuardBroken).
func (g *Guard) Broken() bool {
	if g == nil {
		return false
	}
	if g.of != nil {
		return g.of.Broken()
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.broken
}

// guardOf is the guard a write made with ctx checks: nil where ctx is not
// Lasting, has none, or its guard is spent.
func guardOf(ctx context.Context) *Guard {
	if !IsLasting(ctx) {
		return nil
	}
	g, _ := ctx.Value(guardKey{}).(*Guard)
	if g == nil {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.spent {
		return nil
	}
	if prep, _ := ctx.Value(preparingKey{}).(bool); prep {
		return &Guard{reads: g.reads, of: g}
	}
	return g
}

// settle records a guarded write's outcome and returns err: a write spends
// g, ErrGuardBroken breaks it.
func (g *Guard) settle(wrote bool, err error) error {
	if g == nil {
		return err
	}
	if g.of != nil { // a preparation's: checked, never spent
		g, wrote = g.of, false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case errors.Is(err, ErrGuardBroken):
		g.broken = true
	case wrote && err == nil:
		g.spent = true
	}
	return err
}

// wrote records a guarded write made (committed) of key: value, or none
// (a delete; found false). Where key is a record g read, g holds what was
// written from now on, so a change's own write (a reset's preparation
// rewriting the revocation its guard read) does not break its guard for
// the writes after it; a write by anyone else still does (attack37 F1:
// an admin's console reset of herself reset nothing).
func (g *Guard) wrote(key string, value []byte, found bool) {
	if g == nil {
		return
	}
	if g.of != nil {
		g = g.of
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, r := range g.reads {
		if r.key != key {
			continue
		}
		now := &Op{kind: r.kind, key: key, Value: value}
		if !found {
			now.Value, now.Err = nil, ErrNotFound
		} else if now.Value == nil {
			now.Value = []byte{}
		}
		reads := append([]*Op{}, g.reads...) // a preparation's guard holds the old slice
		reads[i], g.reads = now, reads
		return
	}
}

// settleWrite is settle for a write of key (value, or none: found false),
// noting it (wrote) where it was made.
func (g *Guard) settleWrite(wrote bool, err error, key string, value []byte, found bool) error {
	if wrote && err == nil {
		g.wrote(key, value, found)
	}
	return g.settle(wrote, err)
}

// current is the records g checks, as they are now (wrote).
func (g *Guard) current() []*Op {
	if g.of != nil {
		g = g.of
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.reads
}

// holds reports whether a record (cur; found: there is one) is what the
// read r found.
func (r *Op) holds(cur []byte, found bool) bool {
	return found == r.foundRecord() && bytes.Equal(cur, r.Value)
}

// inTxn checks g's records in txn, Badger's write (nil g: none): its
// reads are the transaction's, so a revocation committed before it does
// is a conflict, and the retry reads it.
func (g *Guard) inTxn(txn *badger.Txn) error {
	if g == nil {
		return nil
	}
	if g.Broken() {
		return ErrGuardBroken
	}
	for _, r := range g.current() {
		cur, found, err := getInTxn(txn, r.key)
		if err != nil {
			return err
		}
		if !r.holds(cur, found) {
			return ErrGuardBroken
		}
	}
	return nil
}

// claimParts are the parts of a claim that makes writes (swaps of their
// records) only while g's records hold what they held: a check-only part
// each, first (on a Cluster read side by side before the writes are
// claimed: checkThenClaim), but where a write is of the record itself (a
// sign-out everywhere writes the user's revocation it was let in on):
// that write is made against what the guard read, and one that read
// another value is refused at once.
func (g *Guard) claimParts(writes ...*Op) ([]*Op, error) {
	reads := g.current()
	parts := make([]*Op, 0, len(reads)+len(writes))
	for _, r := range reads {
		i := 0
		for i < len(writes) && writes[i].key != r.key {
			i++
		}
		switch {
		case i == len(writes):
			parts = append(parts, &Op{kind: opSwap, key: r.key, old: r.Value, found: r.foundRecord(), check: true})
		case writes[i].blind:
			writes[i].blind, writes[i].old, writes[i].found = false, r.Value, r.foundRecord()
		case !r.holds(writes[i].old, writes[i].found):
			return nil, ErrGuardBroken
		}
	}
	return append(parts, writes...), nil
}

// changed reads g's records again on st, and reports whether one changed:
// why a guarded swap was refused (its own record, or the guard's).
func (g *Guard) changed(ctx context.Context, st Store) (bool, error) {
	var b Batch
	reads := g.current()
	now := make([]*Op, len(reads))
	for i, r := range reads {
		now[i] = b.Get(r.key)
	}
	if err := Do(WithGuard(ctx, nil), st, &b); err != nil {
		return false, err
	}
	for i, r := range reads {
		if !r.holds(now[i].Value, now[i].Err == nil) {
			return true, nil
		}
	}
	return false, nil
}

// getInTxn reads key in txn: its value and whether it is there (a key
// not found is no error).
func getInTxn(txn *badger.Txn, key string) (cur []byte, found bool, err error) {
	item, err := txn.Get([]byte(key))
	switch {
	case err == nil:
		cur, err = item.ValueCopy(nil)
		return cur, err == nil, err
	case errors.Is(err, badger.ErrKeyNotFound):
		return nil, false, nil
	}
	return nil, false, err
}
