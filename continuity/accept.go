package continuity

import (
	"context"
	"errors"
)

// ErrNotFrozen refuses to accept a store that is not frozen.
var ErrNotFrozen = errors.New("the store is not frozen: there is nothing to accept")

// ErrChanged is Accept's answer when the epoch record changed between its
// read and its write (another gate froze the store for evictions): what
// the admin accepted is not what the store holds now; look again. A
// gate's look that meets it looks again (check).
var ErrChanged = errors.New("the store's epoch record changed meanwhile: the log says why; accept again if that is to be accepted too")

// Accept is an admin's word that the store's state is the one to go on
// with (after a wipe, or a restore): a new epoch that every gate takes.
// Unless force is set, it is refused when the store is not frozen. It
// returns the record it replaced (nil if none).
func (w *Watch) Accept(ctx context.Context, how string, force bool) (*Record, error) {
	w.mu.Lock()
	old, rec, err := w.accept(ctx, how, force)
	if rec == nil {
		w.mu.Unlock()
		return old, err
	}
	w.show(rec, nil)
	return old, nil
}

// accept is Accept's turn, under mu: the record replaced, and the new one
// (nil: none written).
func (w *Watch) accept(ctx context.Context, how string, force bool) (old, rec *Record, err error) {
	old, was, err := w.read(ctx)
	if err != nil {
		return nil, nil, err
	}
	if !force && (old == nil || old.Frozen == nil) {
		if old != nil || !w.marker.get().Users {
			return old, nil, ErrNotFrozen
		}
	}
	rec = &Record{ID: newID(), Created: w.now().UTC(), Users: true, Accepted: how}
	// Only over the record read: a freeze another gate wrote meanwhile
	// (evictions) is not the one the admin accepted, and must not vanish.
	if _, err := w.putOver(ctx, was, rec); err != nil {
		return nil, nil, err
	}
	w.rec = rec
	w.marker.set(memory{ID: rec.ID, Users: true})
	return old, rec, nil
}

// Reread is Check for a caller that must not wait on another turn past
// ctx (admin's inherited, at a config's start): where a turn holds the
// watch (the gate's own watch looking at a dead store, up to 10 s), it
// waits for it only while ctx lasts, then gives up with ctx's error, the
// record unread (as it does once ctx is over).
func (w *Watch) Reread(ctx context.Context) (Change, error) {
	select {
	case w.mu <- struct{}{}:
	case <-ctx.Done():
		return Change{}, ctx.Err()
	}
	if err := ctx.Err(); err != nil {
		w.mu.Unlock()
		return Change{}, err
	}
	return w.turn(ctx)
}

// turns is the Watch's lock: a channel of one, which a wait that its
// context bounds selects on (Reread).
type turns chan struct{}

func (t turns) Lock()   { t <- struct{}{} }
func (t turns) Unlock() { <-t }
