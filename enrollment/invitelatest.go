package enrollment

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
)

// A user's newest invite: minting one replaces every earlier one of hers
// (the console's invite page reloaded mints another: the first link must
// not stay out there, working). The record names the newest by its mint
// time and ID; an invite minted before it, or at the same instant but
// written before it, is replaced (ReadReplaced). No record (the previous
// release's invites, or none minted since) replaces nothing.

// latestInviteKey names the record of user's newest invite.
func latestInviteKey(realm, user string) string { return store.Key("invite-latest", realm, user) }

// latestInviteTTL is how long that record is kept: past the end of any
// invite minted before it (MaxInviteTTL at most, and an hour for clocks
// of two instances that disagree).
const latestInviteTTL = MaxInviteTTL + time.Hour

// latestInvite is the record of a user's newest invite.
type latestInvite struct {
	// Made is when it was minted (Unix nanoseconds, as Flow.InvitedAt).
	Made int64 `json:"made"`
	// ID is its token's hash (Invite.ID).
	ID string `json:"id"`
}

// markLatest records inv as user's newest invite, in one atomic step,
// unless the record names one minted after it (an instance whose clock
// is behind): of two mints at once, the later stands (at the same
// instant, the one written last).
func (s *Admin) markLatest(ctx context.Context, realm, user string, inv latestInvite) error {
	raw, _ := json.Marshal(inv)
	return s.Store.Update(ctx, latestInviteKey(realm, user), func(old []byte, found bool) ([]byte, time.Duration, error) {
		var was latestInvite
		if found && json.Unmarshal(old, &was) == nil && was.Made > inv.Made {
			return nil, 0, store.ErrUnchanged
		}
		return raw, latestInviteTTL, nil
	})
}

// ReadReplaced adds to b the read of user's newest invite, and returns,
// once b is done, whether inv (one of hers) was replaced by a newer one:
// minted before it, or at the same instant and written before it. An
// invite of the release before last, with no mint time, is replaced by
// any. No record: none is.
func ReadReplaced(b *store.Batch, realm, user string) func(inv Invite) (bool, error) {
	op := b.Get(latestInviteKey(realm, user))
	return func(inv Invite) (bool, error) {
		if errors.Is(op.Err, store.ErrNotFound) {
			return false, nil
		}
		var latest latestInvite
		if op.Err != nil {
			return false, op.Err
		}
		if err := json.Unmarshal(op.Value, &latest); err != nil {
			return false, err
		}
		if inv.Made.IsZero() {
			return true, nil
		}
		made := inv.Made.UnixNano()
		return made < latest.Made || (made == latest.Made && inv.ID != latest.ID), nil
	}
}
