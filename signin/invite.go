package signin

import (
	"cmp"
	"context"
	"errors"
	"time"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/store"
)

// InviteFor says whom a live invite is for, without using it up (a link
// scanner's GET must not burn it). With a first factor, the invite must be
// for the user it names; at a login form that names its users, for one
// of them. An invite minted before the user was last reset or revoked is
// dead (see readStanding), and one the admin replaced by minting a newer
// one for the user is too (enrollment.ReadReplaced): a link is checked so
// until it is accepted, and a flow that accepted it, at each send of a
// code and at the completion (readAccepted).
func (s *Service) InviteFor(ctx context.Context, realm, token, prior string) (string, error) {
	inv, err := s.inviteFor(ctx, realm, token, prior)
	return inv.User, err
}

func (s *Service) inviteFor(ctx context.Context, realm, token, prior string) (enrollment.Invite, error) {
	inv, err := s.Invites.PeekInvite(ctx, realm, token)
	if err != nil {
		return inv, err
	}
	if !s.Identity.NamesThemselves() && inv.User != prior {
		return enrollment.Invite{}, ErrOtherInvite
	}
	if !s.Identity.names(inv.User) {
		// A device enrolled here could never sign in here.
		return enrollment.Invite{}, ErrInviteNotHere
	}
	// Both reads in one batch: one round trip on Redis.
	var b store.Batch
	stands := s.readStanding(&b, realm, inv.User, inv.Made)
	gone := enrollment.ReadGone(&b, realm, inv.User)
	_ = store.Do(ctx, s.Devices.Store, &b) // a read's error is its own: below
	if ok, err := stands(); err != nil || !ok {
		return enrollment.Invite{}, cmp.Or[error](err, enrollment.ErrInviteEnded) // a reset or a revoke since it was minted
	}
	if why, err := gone(inv); err != nil || why != nil {
		return enrollment.Invite{}, cmp.Or(err, why)
	}
	if !s.MinterStands(inv.By) { // her admin taken out of admins (minted37)
		return enrollment.Invite{}, ErrInviteMinterGone
	}
	return inv, nil
}

// AcceptInvite uses up an invite and starts that user's sign-in; they may
// enroll a phone even where enrollment is closed, while the invite stands.
// It returns their step.
func (s *Service) AcceptInvite(ctx context.Context, realm string, f *Flow, token, prior string) (Step, error) {
	if _, err := s.inviteFor(ctx, realm, token, prior); err != nil {
		return 0, err
	}
	inv, err := s.Invites.TakeInvite(ctx, realm, token)
	if err != nil {
		return 0, err
	}
	if inv.By != "" { // who minted it at the console (not "by": the user acts here; review35 F6)
		s.audit("invite_used", inv.User, "", zap.String("minted_by", inv.By))
	} else {
		s.audit("invite_used", inv.User, "")
	}
	f.User, f.InvitedAt, f.Invitee, f.Challenge, f.InviteID, f.RecoveryID, f.InvitedBy = inv.User, 0, inv.User, "", inv.ID, "", inv.By
	if !inv.Made.IsZero() { // an earlier release's invite has no time: 0, as its flows have
		f.InvitedAt = inv.Made.UnixNano()
	}
	return s.Next(ctx, realm, f, inv.User)
}

// readStanding adds to b the read that says whether an invite of user's
// minted at made still stands, and returns its answer once b is done: an
// admin's reset or revoke (which end every session of the user, and stamp
// when: session.RevokeUser) ends the invites minted before it too, and an
// enrollment they let in (a link that leaked with the lost phone, or was
// accepted by whoever the reset is meant to shut out). An invite without
// a time (an earlier release's) stands only for a user never revoked.
func (s *Service) readStanding(b *store.Batch, realm, user string, made time.Time) func() (bool, error) {
	if s.Revoked == nil {
		return func() (bool, error) { return true, nil }
	}
	revoked := s.Revoked(b, realm, user)
	return func() (bool, error) {
		at, err := revoked()
		if err != nil {
			return false, err
		}
		return at.IsZero() || made.After(at), nil
	}
}

// spentTTL is how long the record of an invite's enrollment is kept:
// longer than any flow that accepted it before lives (the pages' flows
// end an hour after they began), and as long as an invite can last, so
// that the end of the admin who minted it tells it used (fix35:
// session.EndMinted; it was 24 hours).
const spentTTL = endkeys.InviteLife

// spentKey names the record that the invite a flow accepted, minted at at
// (Unix nanoseconds: Flow.InvitedAt), enrolled user's phone.
func spentKey(realm, user string, at int64) string { return endkeys.InviteSpent(realm, user, at) }

// spend records that the invite f accepted (or the recovery code that let
// it enroll) enrolled user's phone, and reports whether this is its first
// enrollment: an invite enrolls one phone, though its flow's cookie may
// be copied and used again once that phone is removed (the admin's
// remove-device; a reset ends the invite anyway). One atomic step
// (put-if-absent): of two enrollments by it, one is first.
func (s *Service) spend(ctx context.Context, realm, user string, f *Flow) (bool, error) {
	return s.Devices.Store.PutIfAbsent(store.Lasting(ctx), spentKey(realm, user, f.InvitedAt), []byte("1"), spentTTL)
}

// inviteStands says whether the invite f accepted for user (or the
// recovery code that let it enroll) may still enroll a phone: no reset
// since it was minted (readStanding), no newer invite of the user's since
// (readAccepted), and no phone enrolled by it (spend). It runs on each
// send of an enrollment code, so the records are read in one batch (one
// round trip on Redis); the spend's record decides nothing where the
// invite has ended, nor does an error reading it.
func (s *Service) inviteStands(ctx context.Context, realm, user string, f *Flow) (bool, error) {
	var b store.Batch
	stands := s.readAccepted(&b, realm, user, f)
	spent := b.Get(spentKey(realm, user, f.InvitedAt))
	_ = store.Do(ctx, s.Devices.Store, &b) // a read's error is its own: below
	if ok, err := stands(); err != nil || !ok {
		return false, err
	}
	if errors.Is(spent.Err, store.ErrNotFound) {
		return true, nil
	}
	return false, spent.Err // spent (nil), or unread
}

// InvitedAs says the flow accepted an invite for user: only that user may
// enroll by it (with a first factor, the user is the first factor's, which
// may change within one flow: another password typed at basic_auth; at a
// login form, the name typed last, which may be anyone's: the invite's
// own user is kept apart, in Invitee).
func (f *Flow) InvitedAs(user string) bool {
	return user != "" && f.User == user && f.Invitee == user
}

// invitedAt is when the invite a flow accepted was minted (the epoch for
// an earlier release's flow).
func (f *Flow) invitedAt() time.Time { return time.Unix(0, f.InvitedAt) }

// acceptedStands says whether what f accepted for user (an invite, or a
// recovery code that let it enroll) still stands (readAccepted).
func (s *Service) acceptedStands(ctx context.Context, realm, user string, f *Flow) (bool, error) {
	var b store.Batch
	stands := s.readAccepted(&b, realm, user, f)
	_ = store.Do(ctx, s.Devices.Store, &b) // a read's error is its own: stands says it
	return stands()
}

// readAccepted adds to b the reads of whether what f accepted still
// stands: no reset since (readStanding), and for an invite, no newer one
// of the user's minted since it was accepted (enrollment.ReadReplaced: a
// flow that accepted the first link ends with it), and its minter still
// an admin of the realm (MinterStands, minted37). A recovery code's
// enrollment, or an invite's flow of the release before (no InviteID), is
// asked the reset only.
func (s *Service) readAccepted(b *store.Batch, realm, user string, f *Flow) func() (bool, error) {
	stands := s.readStanding(b, realm, user, f.invitedAt())
	if f.InviteID == "" && f.RecoveryID != "" { // a recovery code's: by its mark too
		marked := enrollment.ReadRecoveryMark(b, realm, user)
		return func() (bool, error) {
			if ok, err := stands(); err != nil || !ok {
				return false, err
			}
			return marked(f.RecoveryID)
		}
	}
	if f.InviteID == "" {
		return stands
	}
	replaced := enrollment.ReadReplaced(b, realm, user)
	return func() (bool, error) {
		if ok, err := stands(); err != nil || !ok || !s.MinterStands(f.InvitedBy) {
			return false, err
		}
		gone, err := replaced(enrollment.Invite{ID: f.InviteID})
		return !gone && err == nil, err
	}
}
