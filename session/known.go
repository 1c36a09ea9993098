package session

import (
	"context"
	"errors"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
)

// A known browser is one that signed in as a user before (the pages'
// known-browser cookie): it has guess windows and send budgets of its own,
// apart from strangers who name the user. It stays known after its own
// logout (the owner signs out of their own browser), but not after the
// admin ends the session it signed in with (End: a stolen browser), nor
// after a reset, revoke or sign-out everywhere (RevokedBefore).

// endedKey marks a session the admin ended (End), as long as the session
// would have lasted: its browser is a stranger's again.
func endedKey(realm, sid string) string { return store.Key("ended-by-admin", realm, sid) }

// StillKnown reports whether a browser that signed in as user at issued,
// in session sid ("" for a cookie from before sessions were named in it),
// is still theirs: no reset, revoke or sign-out everywhere since, and that
// session not ended by the admin. One round trip to the store.
func StillKnown(ctx context.Context, st store.Store, realm, user, sid string, issued time.Time) (bool, error) {
	var b store.Batch
	all := b.Get(userRevokedKey(realm, user))
	ended := &store.Op{Err: store.ErrNotFound}
	if sid != "" {
		ended = b.Get(endedKey(realm, sid))
	}
	if err := store.Do(ctx, st, &b); err != nil {
		return false, err
	}
	before, err := revokedBefore(all)
	if err != nil {
		return false, err
	}
	if !errors.Is(ended.Err, store.ErrNotFound) {
		return false, ended.Err // nil: ended by the admin
	}
	return before.IsZero() || issued.After(before), nil
}
