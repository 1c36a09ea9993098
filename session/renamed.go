package session

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

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
// tokens unmarked, and recorded when it first ran on the store: a token
// of its own, planted under the old name, must not count. So the record
// is read (never written: a wipe or an eviction of it then moves the
// instant no later, and a store that never had one holds no token of that
// release): an unmarked token is from before the renaming if the store
// holds no record, or if it was issued before the record's instant.

// renamedRecord is the release between's record of when it first opened
// this store (RFC 3339, UTC).
const renamedRecord = "cookies/renamed"

// readRenamed is the store's renamed instant, zero for none. An
// unreadable record counts as the earliest instant (no unmarked token is
// from before it: the browsers from before the renaming sign in again),
// with a warning.
func readRenamed(ctx context.Context, st store.Store, logger *zap.Logger) (time.Time, error) {
	raw, err := st.Get(ctx, renamedRecord)
	if errors.Is(err, store.ErrNotFound) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("reading when the cookies were renamed: %v", err)
	}
	at, err := time.Parse(time.RFC3339Nano, string(raw))
	if err != nil || at.IsZero() {
		logger.Warn("the store's record of when the cookies were renamed is unreadable: no old-name cookie counts", zap.String("record", renamedRecord))
		return time.Unix(0, 0), nil
	}
	return at, nil
}

// Unmarked reports whether cl's token lacks the mark every session and
// known-browser token this release issues carries: a release before the
// renaming issued it, or the release between (see IssuedBeforeRename).
func (cl *Claims) Unmarked() bool { return !cl.Prefixed }

// Unmarked reports whether tb was earned under a release that did not
// mark its trusts (see Claims.Unmarked).
func (tb *TrustedBrowser) Unmarked() bool { return !tb.Prefixed }

// IssuedBeforeRename reports whether cl's token was issued by a release
// before the cookies took their prefixed names: unmarked, and issued
// before the store's renamed instant if it has one (whole seconds, as a
// token keeps its iat). Under a cookie's old name, only such a token is
// the browser's own.
func (m *Manager) IssuedBeforeRename(cl *Claims) bool {
	if !cl.Unmarked() {
		return false
	}
	return m.renamed.IsZero() || cl.IssuedAt != nil && cl.IssuedAt.Before(m.renamed.Truncate(time.Second))
}

// EarnedBeforeRename reports whether tb was earned under a release before
// the cookies took their prefixed names (see IssuedBeforeRename; a trust
// keeps when it was made, Created).
func (m *Manager) EarnedBeforeRename(tb *TrustedBrowser) bool {
	return tb.Unmarked() && (m.renamed.IsZero() || tb.Created.Before(m.renamed))
}
