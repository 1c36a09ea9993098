package signin

import (
	"context"

	"github.com/go-webauthn/webauthn/protocol"
	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/words"
)

// Passkeys: added on the devices page (after step-up), used at the verify
// step, or — with a login form — to name and verify the user at once.

// BeginPasskey starts adding a passkey for user, in flow.
func (s *Service) BeginPasskey(ctx context.Context, realm, user string, f *Flow) (*protocol.CredentialCreation, error) {
	return s.Devices.BeginPasskey(ctx, realm, user, f.ID)
}

// FinishPasskey adds the passkey the browser made, named name (if not
// "", else "Passkey 1"…), and tells the user's phones; live is the asking
// session's (see Live).
func (s *Service) FinishPasskey(ctx context.Context, sc enrollment.Scope, user string, f *Flow, answer *protocol.ParsedCredentialCreationData, name string, live Live) error {
	since := s.Devices.Now()
	id, err := s.Devices.FinishPasskey(ctx, sc.Realm, user, f.ID, sc.Lang, answer)
	if err != nil {
		s.verifyFailed(ctx, sc, user, "", factor.Passkey, err) // an audit line only: an adding is no guess, and lockStarted finds no lock in its error
		return err
	}
	if err := s.keptRemoving(ctx, live, sc.Realm, user, id, since); err != nil {
		return err
	}
	if name != "" {
		if err := s.Devices.Rename(ctx, sc.Realm, user, id, name); err != nil {
			s.Logger.Warn("naming a passkey", zap.Error(err)) // added all the same, as "Passkey N"
		}
	}
	s.audit("device_added", user, "", zap.String("device", id), zap.String("kind", factor.Passkey.Name()))
	s.Notify(ctx, sc.Realm, user, "", words.Say("notice.passkey_added"))
	return nil
}

// BeginPasskeyLogin starts a sign-in with user's passkey, or with any
// passkey of the site when nobody is named yet.
func (s *Service) BeginPasskeyLogin(ctx context.Context, realm, user string, f *Flow) (*protocol.CredentialAssertion, error) {
	return s.Devices.BeginPasskeyLogin(ctx, realm, user, f.ID)
}

// FinishPasskeyLogin signs in whoever the passkey proves: the named user,
// or the user a discoverable passkey names (if this gate signs them in).
func (s *Service) FinishPasskeyLogin(ctx context.Context, sc enrollment.Scope, user string, f *Flow, answer *protocol.ParsedCredentialAssertionData) (*Result, error) {
	who, d, err := s.Devices.FinishPasskeyLogin(ctx, sc, user, f.ID, answer)
	if err == nil && !s.Identity.names(who) {
		err = enrollment.ErrPasskey // a passkey of a user this gate does not sign in
	}
	if err != nil {
		s.verifyFailed(ctx, sc, user, "", factor.Passkey, err)
		return nil, err
	}
	s.audit("verified", who, "", zap.String("device", d.ID), zap.String("kind", factor.Passkey.Name()))
	f.User = who
	amr := factor.AMRHardware
	if enrollment.PasskeySynced(d) {
		amr = factor.AMRSoftware
	}
	return &Result{User: who, AMR: []factor.AMR{amr}, Device: d.ID}, nil
}
