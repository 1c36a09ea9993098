package enrollment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/words"
)

// A user's newest invite: minting one replaces every earlier one of hers
// (the console's invite page reloaded mints another: the first link must
// not stay out there, working). NewInvite writes the invite, then this
// record naming it by its ID, overwriting the one before: an invite is
// replaced exactly when the record names another (ReadReplaced), so one
// stands, the one whose record was written last, whatever the clocks of
// the instances that minted them say (review27: keeping the later mint
// time refused the newer link where an instance's clock was ahead). No
// record (the previous release's invites, or none minted since) replaces
// nothing.

// ErrInviteUnrecorded is a mint whose invite was written but whose
// record as the user's newest may not be (the store failed writing it):
// its link is not handed out, and her earlier links may or may not still
// work (the write may have been made, its answer lost).
var ErrInviteUnrecorded = errors.New("the new invite could not be recorded as the user's newest")

// ErrInviteRaced is a mint whose record as the user's newest another mint
// for her replaced before it was read back (two admins inviting her at the
// same instant): its link would not work, so it is not handed out; the
// other mint's is the one that works (review28).
var ErrInviteRaced = words.New("invite.raced")

// latestInviteKey names the record of user's newest invite.
func latestInviteKey(realm, user string) string { return store.Key("invite-latest", realm, user) }

// latestInviteTTL is how long that record is kept: written after the
// invite it names (and after every invite it replaces), for as long as
// any of them can last.
const latestInviteTTL = MaxInviteTTL

// latestInvite is the record of a user's newest invite.
type latestInvite struct {
	// ID is its token's hash (Invite.ID).
	ID string `json:"id"`
}

// markLatest records the invite id names as user's newest, replacing the
// one the record named.
func (s *Admin) markLatest(ctx context.Context, realm, user, id string) error {
	raw, _ := json.Marshal(latestInvite{ID: id})
	return s.Store.Put(ctx, latestInviteKey(realm, user), raw, latestInviteTTL)
}

// stillLatest reads back the record of user's newest invite, just written
// naming token's: a mint at the same instant whose record was written
// after it replaced it (the record is overwritten, the last write wins),
// and its link would be handed out dead. Then it is ErrInviteRaced, and
// its invite is deleted (an instance of the previous release, which reads
// no record, would take it). A read that fails is ErrInviteUnrecorded: the
// record was written, whether it still names this one is not known. A mint
// whose record is replaced only after this read — the other admin's write
// came once this one had answered — is handed out, and replaced as any
// earlier link is by a newer one.
func (s *Admin) stillLatest(ctx context.Context, realm, user, token string) error {
	raw, err := s.Store.Get(ctx, latestInviteKey(realm, user))
	var latest latestInvite
	if err == nil {
		err = json.Unmarshal(raw, &latest)
	}
	if err != nil {
		return fmt.Errorf("%w: reading it back: %w", ErrInviteUnrecorded, err)
	}
	if latest.ID != inviteID(token) {
		_ = s.Store.Delete(ctx, inviteKey(realm, token))
		return ErrInviteRaced
	}
	return nil
}

// ReadReplaced adds to b the read of user's newest invite, and returns,
// once b is done, whether inv (one of hers) was replaced by a newer one:
// the record names another (an invite of the release before last, with
// no mint time, is never named: any record replaces it). No record: none
// is.
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
		return latest.ID != inv.ID, nil
	}
}
