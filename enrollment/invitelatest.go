package enrollment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/endkeys"
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
// nothing. A revocation of all her sessions (session.RevokeUser: a reset,
// a revoke, a sign-out everywhere) writes the record naming no invite
// (endkeys.NoInvite), where there is one: every invite minted before it
// ends by its ID, not by comparing clocks (attack28 F2).

// ErrInviteUnrecorded is a mint whose invite was written but whose
// record as the user's newest may not be (the store failed writing it):
// its link is not handed out, and her earlier links may or may not still
// work (the write may have been made, its answer lost).
var ErrInviteUnrecorded = errors.New("the new invite could not be recorded as the user's newest")

// ErrInviteRaced is a mint whose record as the user's newest another mint
// for her replaced before it was read back (two admins inviting her at the
// same instant): its link would not work, so it is not handed out; the
// other mint's works if it was handed out (review28). It may not have been:
// a mint whose record was written but answered as an error (a Redis WAIT
// timeout) is ErrInviteUnrecorded, and then neither admin holds a link, so
// the words say to make a new invite if nobody received one (review29).
// Minting once more here is not done: a raced mint cannot tell that case
// from one whose other link was handed out, which its record would kill.
var ErrInviteRaced = words.New("invite.raced")

// latestInviteKey names the record of user's newest invite.
func latestInviteKey(realm, user string) string { return endkeys.LatestInvite(realm, user) }

// latestInviteTTL is how long that record is kept: written after the
// invite it names (and after every invite it replaces), for as long as
// any of them can last.
const latestInviteTTL = MaxInviteTTL

// latestInvite is the record of a user's newest invite.
type latestInvite struct {
	// ID is its token's hash (Invite.ID).
	ID string `json:"id"`
	// Recovery is the mark of the recovery code used last with no phone
	// left, whose flow may enroll one (MarkRecovery): a revocation of all
	// her sessions writes the record naming no invite, and no mark.
	Recovery string `json:"recovery,omitempty"`
}

// MarkRecovery records mark in user's record of her newest invite (the
// invite it names kept), before a recovery code of hers is burnt: the
// enrollment the code lets in, where she holds no phone, stands while the
// record holds the mark (ReadRecoveryMark), so the revocation of a reset
// (endkeys.NoInvite) ends it by that ID, not by comparing clocks (clock32).
// A newer invite minted for her ends it too, as it ends an older invite.
func (s *Devices) MarkRecovery(ctx context.Context, realm, user, mark string) error {
	return s.Store.Update(store.Lasting(ctx), latestInviteKey(realm, user), func(old []byte, found bool) ([]byte, time.Duration, error) {
		var latest latestInvite
		if found {
			_ = json.Unmarshal(old, &latest) // unreadable: names no invite
		}
		latest.Recovery = mark
		raw, err := json.Marshal(latest)
		return raw, latestInviteTTL, err
	})
}

// ReadRecoveryMark adds to b the read of user's record of her newest
// invite, and returns, once b is done, whether it still holds mark
// (MarkRecovery): none, or another, is not (a reset since, a newer
// invite, a later code's mark). err is the store's.
func ReadRecoveryMark(b *store.Batch, realm, user string) func(mark string) (bool, error) {
	op := b.Get(latestInviteKey(realm, user))
	return func(mark string) (bool, error) {
		if errors.Is(op.Err, store.ErrNotFound) {
			return false, nil
		}
		if op.Err != nil {
			return false, op.Err
		}
		var latest latestInvite
		return json.Unmarshal(op.Value, &latest) == nil && latest.Recovery == mark, nil
	}
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
// record was written, whether it still names this one is not known. One
// the end of its admin withdrew meanwhile is ErrInviteWithdrawn. A mint
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
		if latest.ID == endkeys.Withdrawn { // the end of its admin came between (session.EndMinted)
			return ErrInviteWithdrawn
		}
		return ErrInviteRaced
	}
	return nil
}

// ReadReplaced adds to b the read of user's newest invite, and returns,
// once b is done, whether inv (one of hers) was replaced by a newer one,
// or ended by a revocation of all her sessions (ReadGone).
func ReadReplaced(b *store.Batch, realm, user string) func(inv Invite) (bool, error) {
	gone := ReadGone(b, realm, user)
	return func(inv Invite) (bool, error) {
		why, err := gone(inv)
		return why != nil, err
	}
}

// ReadGone adds to b the read of user's newest invite, and returns, once
// b is done, why inv (one of hers) is gone, nil where it is not: the
// record names another (ErrInviteReplaced: an invite of the release
// before last, with no mint time, is never named: any record replaces
// it), or none (ErrInvite: a reset, a revoke, a sign-out everywhere wrote
// it, endkeys.NoInvite), or ended with the admin who minted it
// (ErrInviteWithdrawn: endkeys.Withdrawn, session.EndMinted). No record, or one holding only a recovery code's
// mark (review33: it made a pending invite of a release before the record
// look replaced): it is not. err is the store's.
func ReadGone(b *store.Batch, realm, user string) func(inv Invite) (gone, err error) {
	op := b.Get(latestInviteKey(realm, user))
	return func(inv Invite) (error, error) {
		if errors.Is(op.Err, store.ErrNotFound) {
			return nil, nil
		}
		var latest latestInvite
		if op.Err != nil {
			return nil, op.Err
		}
		if err := json.Unmarshal(op.Value, &latest); err != nil {
			return nil, err
		}
		switch latest.ID {
		case inv.ID, "": // "": a recovery code's mark alone (MarkRecovery), no invite's
			return nil, nil
		case endkeys.NoInvite:
			return ErrInviteEnded, nil
		case endkeys.Withdrawn:
			return ErrInviteWithdrawn, nil
		}
		return ErrInviteReplaced, nil
	}
}
