package signin

import (
	"cmp"
	"context"
	"time"

	"github.com/smsgate/caddy-smsgate/enrollment"
)

// InviteFor says whom a live invite is for, without using it up (a link
// scanner's GET must not burn it). With a first factor, the invite must be
// for the user it names; at a login form that names its users, for one
// of them. An invite minted before the user was last reset or revoked is
// dead (see standing).
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
	if ok, err := s.standing(ctx, realm, inv.User, inv.Made); err != nil || !ok {
		return enrollment.Invite{}, cmp.Or[error](err, enrollment.ErrInvite)
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
	s.audit("invite_used", inv.User, "")
	f.User, f.InvitedAt, f.Invitee, f.Challenge = inv.User, 0, inv.User, ""
	if !inv.Made.IsZero() { // an earlier release's invite has no time: 0, as its flows have
		f.InvitedAt = inv.Made.UnixNano()
	}
	return s.Next(ctx, realm, f, inv.User)
}

// standing says whether an invite of user's minted at made still stands:
// an admin's reset or revoke (which end every session of the user, and
// stamp when: session.RevokeUser) ends the invites minted before it too,
// and an enrollment they let in (a link that leaked with the lost phone,
// or was accepted by whoever the reset is meant to shut out). An invite
// without a time (an earlier release's) stands only for a user never
// revoked.
func (s *Service) standing(ctx context.Context, realm, user string, made time.Time) (bool, error) {
	if s.Revoked == nil {
		return true, nil
	}
	at, err := s.Revoked(ctx, realm, user)
	if err != nil {
		return false, err
	}
	return at.IsZero() || made.After(at), nil
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
