package signin

import "context"

// InviteFor says whom a live invite is for, without using it up (a link
// scanner's GET must not burn it). With a first factor, the invite must be
// for the user it names.
func (s *Service) InviteFor(ctx context.Context, realm, token, prior string) (string, error) {
	user, err := s.Invites.InviteUser(ctx, realm, token)
	if err == nil && !s.Identity.NamesThemselves() && user != prior {
		return "", ErrOtherInvite
	}
	return user, err
}

// AcceptInvite uses up an invite and starts that user's sign-in; they may
// enroll a phone even where enrollment is closed. It returns their step.
func (s *Service) AcceptInvite(ctx context.Context, realm string, f *Flow, token, prior string) (Step, error) {
	user, err := s.InviteFor(ctx, realm, token, prior)
	if err != nil {
		return 0, err
	}
	if _, err := s.Invites.TakeInvite(ctx, realm, token); err != nil {
		return 0, err
	}
	s.audit("invite_used", user, "")
	f.User, f.Invited, f.Challenge = user, true, ""
	return s.Next(ctx, realm, f, user)
}
