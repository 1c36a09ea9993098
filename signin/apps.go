package signin

import (
	"context"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/words"
)

// Authenticator apps: a device that makes its own codes (TOTP). Adding
// one happens on the devices page, after step-up; signing in with one at
// the verify step.

// StartApp begins adding an app for user: the secret to scan or type.
// sid names the session that began it, the only one PendingApp shows it to.
func (s *Service) StartApp(ctx context.Context, realm, user, sid string) (*enrollment.AppSetup, error) {
	return s.Devices.StartApp(ctx, realm, user, s.Site, sid)
}

// PendingApp is user's app setup that the session sid began, still
// waiting for its first code (enrollment.ErrNoAppSetup if none is).
func (s *Service) PendingApp(ctx context.Context, realm, user, sid string) (*enrollment.AppSetup, error) {
	return s.Devices.PendingApp(ctx, realm, user, sid)
}

// CarryApp hands user's app setup that the session from began to the
// session to a step-up of the same browser issued in its place.
func (s *Service) CarryApp(ctx context.Context, realm, user, from, to string) error {
	return s.Devices.CarryApp(ctx, realm, user, from, to)
}

// AppCodeLength is how many digits an authenticator app's code has.
const AppCodeLength = 6

// ConfirmApp adds the app once its first code is right, and tells the
// user's phones; live is the asking session's (see Live). Of two
// confirmations of one app at once (a double submit), the one that found
// it added by the other tells nobody (keptAdding): it answers as done
// while its session is live, and is refused (ErrEnded) once it ended, as
// a phone's second code is (TestTwoAppConfirmsAtOnceNotifyOnce). A code
// that is not six digits (none: the confirmation a step-up resumed, which
// keeps no code) is refused as at a sign-in, no guess counted.
func (s *Service) ConfirmApp(ctx context.Context, sc enrollment.Scope, user, code, name string, live Live) error {
	if _, ok := enrollment.NormalizeCode(code, AppCodeLength); !ok {
		return &CodeFormatError{Length: AppCodeLength}
	}
	since := s.Devices.Now()
	id, added, err := s.Devices.ConfirmApp(ctx, sc, user, code, name)
	if err != nil {
		s.verifyFailed(ctx, sc, user, "", factor.App, err)
		return err
	}
	if err := s.keptAdding(ctx, live, sc.Realm, user, id, since, added); err != nil {
		return err
	}
	if !added {
		return nil
	}
	s.audit("device_added", user, "", zap.String("device", id), zap.String("kind", factor.App.Name()))
	s.Notify(ctx, sc.Realm, user, "", words.Say("notice.app_added"))
	return nil
}

// CheckApp signs user in with a code from one of their apps.
func (s *Service) CheckApp(ctx context.Context, sc enrollment.Scope, user, input string) (*Result, error) {
	if _, ok := enrollment.NormalizeCode(input, AppCodeLength); !ok {
		return nil, &CodeFormatError{Length: AppCodeLength}
	}
	if user == "" {
		return nil, enrollment.ErrNoChallenge
	}
	d, err := s.Devices.CheckApp(ctx, sc, user, input)
	if err != nil {
		s.verifyFailed(ctx, sc, user, "", factor.App, err)
		return nil, err
	}
	s.audit("verified", user, "", zap.String("device", d.ID), zap.String("kind", factor.App.Name()))
	return &Result{User: user, AMR: []factor.AMR{factor.AMROTP}, Device: d.ID}, nil
}
