package session

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
)

// The gate's site-wide cookies (the session's, the known browser's) took
// the __Host- and __Secure- prefixes in the release that first wrote the
// renamed record in its store: a browser can be handed such a cookie only
// by the site itself (__Host-), and a neighbour host can no longer plant a
// session of its own beside the visitor's. A cookie under its old name was
// either written before then (the browser's own, kept through the upgrade)
// or planted since: only the first counts (IssuedBeforeRename), and the
// pages rename it on their next answer.

// renamedRecord holds when this store was first opened by a release that
// writes the prefixed names (RFC 3339, UTC), written once (PutIfAbsent:
// every instance on the store agrees on the first).
const renamedRecord = "cookies/renamed"

// renamedAt is the store's renamed instant, recorded as now if the store
// has none yet (one written by the releases before, or a new store).
func renamedAt(ctx context.Context, st store.Store, now time.Time) (time.Time, error) {
	if _, err := st.PutIfAbsent(store.Lasting(ctx), renamedRecord, []byte(now.UTC().Format(time.RFC3339Nano)), 0); err != nil {
		return time.Time{}, fmt.Errorf("recording when the cookies were renamed: %v", err)
	}
	raw, err := st.Get(ctx, renamedRecord)
	if errors.Is(err, store.ErrNotFound) {
		return now, nil // gone at once (a wipe): now is as good
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("reading when the cookies were renamed: %v", err)
	}
	at, err := time.Parse(time.RFC3339Nano, string(raw))
	if err != nil {
		return time.Time{}, fmt.Errorf("the store's record of when the cookies were renamed is unreadable: %v", err)
	}
	return at, nil
}

// Renamed is when the gate's cookies took their prefixed names on this
// store (see renamedAt).
func (m *Manager) Renamed() time.Time { return m.renamed }

// IssuedBeforeRename reports whether a token issued at iat (whole
// seconds, as a token keeps it) was issued before the cookies were
// renamed on this store: under a cookie's old name, only such a token is
// the browser's own.
func (m *Manager) IssuedBeforeRename(iat time.Time) bool {
	return !iat.IsZero() && iat.Before(m.renamed.Truncate(time.Second))
}
