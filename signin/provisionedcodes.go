package signin

import (
	"context"
	"slices"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/session"
)

// Recovery codes made by a session the config's phone earned. A thief
// holding a provisioned user's password and phone makes a set of his own
// (a step-up with a text to that phone: the renewal's notice goes to it
// too); the config's phone has no device record, so the set named no
// device, and once the admin gave the user a new number his session ended
// (SettleProvisioned) while one of his codes signed him in again. So a
// renewal by such a session records the config's phone as its maker (a
// mark holding its keyed hash, as provisioned-number/ does, never the
// number), and the change of that user's number withdraws the set it made
// where it is still theirs (enrollment.Devices.ForgetCodesMadeBy, as a
// removed device's: buried, compare-and-delete). A set made otherwise —
// by a session an enrolled device or a recovery code earned, or by the
// new number's — stays.

// EarnedBy is what earned cl: the device it names, or the config's phone
// whose mark it carries (the number that earned it, at whichever gate of
// the realm); for a session of a release before the mark, this gate's
// config phone of its user where that earned it (no device, and a texted
// or called code proved: not a recovery code); else "". A device added
// from cl records it (AddingFrom).
func (s *Service) EarnedBy(cl *session.Claims) string {
	u, ok := s.Users[cl.Subject]
	if id := cl.DeviceID(); id != "" || cl.Device == nil || !ok || !slices.ContainsFunc(cl.AMR, provesPhone) {
		return id
	}
	return s.numberMark(u.Phone)
}

// Maker is what a renewal cl asks for names as its set's maker
// (RenewRecovery): EarnedBy, but for a recovery code's session that the
// removal of the device it names kept (session.KeptMark: she removed her
// lost phone from it) the mark that device recorded (Device.AddedBy: ""
// for none): that removal is past, and a set naming the device would
// sign nobody in (Holds); where a config phone's session added the
// device (at the root of its chain), the set goes with that number, as
// one the device's session made would have (gap17).
func (s *Service) Maker(ctx context.Context, realm string, cl *session.Claims) (string, error) {
	if kept, mark, err := session.KeptMark(ctx, s.Devices.Store, realm, cl); kept || err != nil {
		return mark, err
	}
	return s.EarnedBy(cl), nil
}

// AddingFrom is ctx for adding a device from cl's session
// (enrollment.AddedFrom): Maker, so that a device a config phone's
// session added goes with its number, and the session the removal of its
// device kept (her recovery code's) adds her new phone, recording what
// that device recorded (a device added from its session while it was
// listed did too), where another session naming a device gone from her
// list adds none (ErrEnded). A store that cannot tell that session kept
// names the device all the same. One that checks a code: AddingWith.
func (s *Service) AddingFrom(ctx context.Context, realm string, cl *session.Claims) context.Context {
	maker, err := s.Maker(ctx, realm, cl)
	if err != nil {
		maker = s.EarnedBy(cl)
	}
	return enrollment.AddedFrom(ctx, maker)
}

// AddingWith is AddingFrom for a device whose adding checks code, of
// length digits (a phone's: CodeLength; an app's: AppCodeLength): a code
// of another form, refused unread (CodeFormatError), reads nothing.
func (s *Service) AddingWith(ctx context.Context, realm string, cl *session.Claims, code string, length int) context.Context {
	if _, ok := enrollment.NormalizeCode(code, length); !ok {
		return ctx
	}
	return s.AddingFrom(ctx, realm, cl)
}

// provesPhone reports whether a is a phone's code: a text's or a call's.
func provesPhone(a factor.AMR) bool { return a == factor.AMRSMS || a == factor.AMRTel }

// forgetConfigPhoneCodes withdraws user's recovery codes where a session
// a config's phone earned made them, any config's phone: a session counts
// at every gate of its realm, and the renewal named the renewing gate's
// phone of the user, which need not be the one that earned the session
// (a thief signed in with a lost number renews at a gate giving her
// another). It reports whether it withdrew them.
func (s *Service) forgetConfigPhoneCodes(ctx context.Context, realm, user string) (bool, error) {
	return s.Devices.ForgetCodesMadeByAny(ctx, realm, user, func(maker string) bool {
		return session.IsNumberMark(maker)
	})
}
