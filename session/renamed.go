package session

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/continuity"
	"github.com/smsgate/caddy-smsgate/store"
)

// The gate's site-wide cookies (the session's, the known browser's) took
// the __Host- and __Secure- prefixes in the release that first wrote the
// renamed record in its store; since the next one, every token the gate
// issues is marked (Claims.Prefixed, TrustedBrowser.Prefixed): a browser
// can be handed such a cookie only by the site itself (__Host-), and a
// neighbour host can no longer plant a session of its own beside the
// visitor's. A cookie under its old name was either written by a release
// before the renaming (the browser's own, kept through the upgrade) or
// planted since: only the first counts (IssuedBeforeRename), and the pages
// rename it on their next answer.
//
// The release between (the first with the prefixed names) issued its
// tokens unmarked, with the claims of the releases before, and recorded
// when it first ran on the store: a token of its own, planted under the
// old name, must not count. So an unmarked token counts as one from
// before the renaming only within what the store can vouch for (window):
//
//   - with the record, if it was issued before the record's instant;
//   - without it, if it was issued since the store's epoch began
//     (continuity.Record.Trusted: its start, or a freeze's): the release
//     between wrote the record first thing on every store it opened, so a
//     store that holds none in an epoch it has held whole since then
//     never ran it. What was issued before that (a wipe, an eviction, a
//     move to another store with a configured signing_key or an imported
//     one: the tokens outlive the store) may be the release between's,
//     and counts no more: those browsers sign in again. An upgrade from a
//     release before the renaming, on its store, loses nothing.
//
// The record is read, never made up (a later instant would take the
// release between's tokens issued before it): an export carries it and an
// import writes it back (keeping the earlier of two), and a gate that read
// it puts it back where the store lost it (RereadRenamed). Both keep the
// earliest instant (store.KeepEarliest), whichever comes first.

// RenamedRecord is the release between's record of when it first opened
// this store (RFC 3339, UTC).
const RenamedRecord = "cookies/renamed"

// window is which unmarked tokens count as from before the renaming:
// those issued before until (the store's record), or, with none, those
// issued since since (the store's epoch). record is the record's raw value
// (nil: none), for a store that loses it.
type window struct {
	until, since time.Time
	record       []byte
}

// counts reports whether an unmarked token issued at issued (whole
// seconds for a token's iat) is within w.
func (w *window) counts(issued time.Time) bool {
	if !w.until.IsZero() {
		return issued.Before(w.until)
	}
	return !issued.Before(w.since)
}

// readRenamed is what st vouches for (window), in one round trip: its
// renamed record, and its epoch's. An unreadable record counts as the
// earliest instant (no unmarked token is from before it: the browsers
// from before the renaming sign in again), with a warning; no epoch
// record (nothing vouched for) as one that began at now.
func readRenamed(ctx context.Context, st store.Store, logger *zap.Logger, now time.Time) (*window, error) {
	var b store.Batch
	renamed, epoch := b.Get(RenamedRecord), b.Get(continuity.Key)
	if err := store.Do(ctx, st, &b); err != nil {
		return nil, fmt.Errorf("reading when the cookies were renamed: %v", err)
	}
	for _, op := range []*store.Op{renamed, epoch} {
		if op.Err != nil && !errors.Is(op.Err, store.ErrNotFound) {
			return nil, fmt.Errorf("reading when the cookies were renamed: %v", op.Err)
		}
	}
	if renamed.Err == nil {
		at, err := time.Parse(time.RFC3339Nano, string(renamed.Value))
		if err != nil || at.IsZero() {
			logger.Warn("the store's record of when the cookies were renamed is unreadable: no old-name cookie counts", zap.String("record", RenamedRecord))
			return &window{until: time.Unix(0, 0)}, nil
		}
		return &window{until: at, record: renamed.Value}, nil
	}
	since := now
	if epoch.Err == nil {
		if rec, err := continuity.Decode(epoch.Value); err == nil {
			since = rec.Trusted()
		}
	}
	return &window{since: since}, nil
}

// renamedWindow is the gate's window (readRenamed), read at its start and
// again after the store changed (RereadRenamed).
type renamedWindow struct {
	w     atomic.Pointer[window]
	stale atomic.Bool // the store changed: read again at the next look
}

// RereadRenamed reads the store's window again (after an import, or a
// store that changed under the gate), first putting back the record this
// gate read if the store lost it or holds a later one (an import's made
// meanwhile: store.KeepEarliest; never a later one). On an
// error the gate keeps its window, and the next Reconcile tries again.
func (m *Manager) RereadRenamed(ctx context.Context) error {
	m.renamed.stale.Store(false)
	err := func() error {
		if rec := m.renamed.w.Load().record; rec != nil {
			if err := store.KeepEarliest(store.Lasting(ctx), m.store, RenamedRecord, rec); err != nil {
				return fmt.Errorf("putting back when the cookies were renamed: %v", err)
			}
		}
		w, err := readRenamed(ctx, m.store, m.logger, m.now())
		if err == nil {
			m.renamed.w.Store(w)
		}
		return err
	}()
	if err != nil {
		m.renamed.stale.Store(true)
	}
	return err
}

// Unmarked reports whether cl's token lacks the mark every session and
// known-browser token this release issues carries: a release before the
// renaming issued it, or the release between (see IssuedBeforeRename).
func (cl *Claims) Unmarked() bool { return !cl.Prefixed }

// Unmarked reports whether tb was earned under a release that did not
// mark its trusts (see Claims.Unmarked).
func (tb *TrustedBrowser) Unmarked() bool { return !tb.Prefixed }

// IssuedBeforeRename reports whether cl's token was issued by a release
// before the cookies took their prefixed names: unmarked, and within what
// the store vouches for (see window). Under a cookie's old name, only such
// a token is the browser's own.
func (m *Manager) IssuedBeforeRename(cl *Claims) bool {
	if !cl.Unmarked() || cl.IssuedAt == nil {
		return false
	}
	w := m.renamed.w.Load()
	// Whole seconds: a token issued in the second before until (or, since
	// an iat is rounded down, in the one since began) is not known to be
	// within.
	return (&window{until: w.until.Truncate(time.Second), since: w.since}).counts(cl.IssuedAt.Time)
}

// EarnedBeforeRename reports whether tb was earned under a release before
// the cookies took their prefixed names (see IssuedBeforeRename; a trust
// keeps when it was made, Created).
func (m *Manager) EarnedBeforeRename(tb *TrustedBrowser) bool {
	return tb.Unmarked() && m.renamed.w.Load().counts(tb.Created)
}
