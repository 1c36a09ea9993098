package signin

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/phone"
	"github.com/smsgate/caddy-smsgate/providers"
	"github.com/smsgate/caddy-smsgate/words"
)

// Login takes a typed name or number (identity none) and sends its owner
// a code. An unknown user gets a decoy challenge: the same records, the
// same pages and answers, and no message. known is whom this browser
// signed in as before ("" if nobody). region is the country a number
// typed without + is from (the page's picker), else the default region,
// as at the enrollment: (415) 555-2671 is the number it reads there.
func (s *Service) Login(ctx context.Context, sc enrollment.Scope, f *Flow, known, typed, region string) (*enrollment.Challenge, error) {
	return s.login(ctx, sc, f, known, typed, region, true)
}

// Name takes a typed name or number as Login does, but sends nothing: the
// gate takes no texted codes here (a route that requires an app or a
// passkey). The flow names the user (or the decoy), so that the verify
// step looks the same for everyone.
func (s *Service) Name(ctx context.Context, sc enrollment.Scope, f *Flow, typed, region string) error {
	if err := s.Challenges.CountNaming(ctx, sc, f.User); err != nil { // sc.Known: the flow's user is the known one
		return err
	}
	_, err := s.login(ctx, sc, f, "", typed, region, false)
	return err
}

// NumberTyped reports whether what was typed at the login page, which
// names this sign-in, was a phone number (login took it for one: its
// limits count the number), not a name: the verify page's "Not you?"
// then asks for another number, not another name (walk38).
func (f *Flow) NumberTyped() bool {
	n, ok := strings.CutPrefix(f.LimitKey, "login +")
	return ok && n != "" && strings.Trim(n, "0123456789") == "" // E.164: a name "+x" is a name
}

func (s *Service) login(ctx context.Context, sc enrollment.Scope, f *Flow, known, typed, region string, send bool) (*enrollment.Challenge, error) {
	name := strings.TrimSpace(typed)
	if name == "" || len(name) > MaxIdentity {
		return nil, ErrName
	}
	region = cmp.Or(region, s.DefaultRegion)
	user, e164, err := s.lookup(ctx, sc.Realm, name, region)
	if err != nil {
		return nil, err
	}
	// Cooldowns and per-user limits count what was typed, for a known user
	// and a decoy alike, so that neither tells a name from a number of it.
	key := name
	if num, err := phone.Parse(name, region); err == nil {
		key = num
	}
	if user == "" {
		user = phone.MaskDigits(name) // a number, even mistyped, never reaches the logs whole
		if key != name {
			user = "unknown " + phone.Mask(key)
		}
	}
	sc.Known = known != "" && known == user
	s.discard(ctx, sc.Realm, f)
	f.LimitKey = "login " + key
	if !send {
		f.User, f.Challenge = user, ""
		return nil, nil
	}
	lang := ""
	if d, err := s.DeviceOf(ctx, sc.Realm, user); err == nil && d != nil {
		lang = d.Lang // the language it was enrolled in
	}
	c, err := s.start(ctx, sc, enrollment.Challenge{User: user, Phone: e164, Purpose: enrollment.Verify,
		Channel: s.Channels[0], LimitKey: f.LimitKey, Lang: lang})
	if err != nil {
		return nil, err
	}
	if e164 == "" {
		s.Logger.Info("login for an unknown user; no code sent")
	}
	s.sent(c, user, e164)
	f.User = user
	f.pending(c)
	return c, nil
}

// Enroll sends a code to the first phone user types (the Enroll step).
// region is the country a number typed without + is from (the page's
// picker), else the default region.
func (s *Service) Enroll(ctx context.Context, sc enrollment.Scope, f *Flow, user, input, region string) (*enrollment.Challenge, error) {
	e164, err := phone.Parse(input, cmp.Or(region, s.DefaultRegion))
	if err != nil {
		return nil, &InputError{Err: err}
	}
	if err := s.caseTwin(ctx, sc.Realm, f, user, false); err != nil {
		return nil, err
	}
	s.discard(ctx, sc.Realm, f)
	c, err := s.start(ctx, sc, enrollment.Challenge{User: user, Phone: e164, Purpose: enrollment.Enroll, Channel: s.Channels[0]})
	if err != nil {
		return nil, err
	}
	s.sent(c, user, e164)
	f.pending(c)
	f.Enrolling, f.EnrollingFor = "", ""
	return c, nil
}

// AddPhone sends a code to another phone of a signed-in user (the devices
// page, after step-up); the phone is added when the code comes back.
func (s *Service) AddPhone(ctx context.Context, sc enrollment.Scope, f *Flow, user, input, region, name string) (*enrollment.Challenge, error) {
	e164, err := phone.Parse(input, cmp.Or(region, s.DefaultRegion))
	if err != nil {
		return nil, &InputError{Err: err}
	}
	s.discard(ctx, sc.Realm, f)
	c, err := s.start(ctx, sc, enrollment.Challenge{User: user, Phone: e164, Purpose: enrollment.Add,
		Channel: s.Channels[0], DeviceName: enrollment.CleanName(name)})
	if err != nil {
		return nil, err
	}
	s.sent(c, user, e164)
	f.pending(c)
	return c, nil
}

// Send sends user a code on channel: for the pending challenge c (the same
// number and purpose: "call me instead"), else to the phone they chose
// (deviceID) or their default one. After a login form, an unknown user
// gets a decoy, as at the login. In verify-only mode the number is typed
// again (typedPhone). A user with no phone is sent on (*StepError).
func (s *Service) Send(ctx context.Context, sc enrollment.Scope, f *Flow, user string, channel factor.Channel, c *enrollment.Challenge, deviceID, typedPhone string) (*enrollment.Challenge, error) {
	if !slices.Contains(s.Channels, channel) {
		if channel == factor.ChannelVoice {
			return nil, ErrNoCalls
		}
		return nil, ErrNoTexts
	}
	if err := s.enrollClosed(ctx, sc.Realm, f, c); err != nil {
		return nil, err
	}
	e164, masked, purpose, devID, lang := "", "", enrollment.Verify, "", ""
	switch {
	case c != nil && (c.Purpose != enrollment.Verify || deviceID == ""):
		e164, masked, purpose, devID = c.Phone, c.Masked, c.Purpose, c.DeviceID
	case s.Identity.NamesThemselves():
		var err error
		if _, e164, err = s.Lookup(ctx, sc.Realm, user); err != nil {
			return nil, err
		}
	default:
		d, err := s.DeviceOf(ctx, sc.Realm, user)
		if deviceID != "" && err == nil {
			d, err = s.Devices.ByID(ctx, sc.Realm, user, deviceID) // the user's choice
		}
		if err != nil {
			return nil, err
		}
		if d == nil {
			step, err := s.Next(ctx, sc.Realm, f, user)
			if err != nil {
				return nil, err
			}
			if number := f.EnrollingOf(user); step == Enroll && number != "" {
				// The number being enrolled, again, after its code died
				// of wrong tries: no need to type it once more. (An
				// expired code is never renewed this way.)
				if err := s.caseTwin(ctx, sc.Realm, f, user, false); err != nil {
					return nil, err
				}
				nc, err := s.start(ctx, sc, enrollment.Challenge{User: user, Phone: number, Purpose: enrollment.Enroll, Channel: channel})
				if err != nil {
					return nil, err
				}
				s.discard(ctx, sc.Realm, f)
				s.sent(nc, user, number)
				f.pending(nc)
				f.Enrolling, f.EnrollingFor = "", ""
				return nc, nil
			}
			return nil, &StepError{Step: step}
		}
		e164, devID, lang = d.Phone, d.ID, d.Lang // the language it was enrolled in
		if e164 == "" {
			// Verify-only: the user types the number again. A wrong one
			// gets a decoy — the same answer, and no code — until a code
			// is right, so the page cannot be used to test numbers.
			typed, err := phone.Parse(typedPhone, s.DefaultRegion)
			if err != nil {
				return nil, &AskPhoneError{Err: err}
			}
			if s.Devices.Matches(d, typed) {
				e164 = typed
			}
			masked = phone.Mask(typed)
		}
	}
	name, resends := "", 0
	if c != nil {
		name = c.DeviceName // a phone being added keeps its name through "call me instead"
		if s.Now().Before(c.Expires) {
			// Another code for the same sign-in ("call me instead", "text
			// me instead", another phone) is a resend: its cooldown doubles.
			resends = c.Resends + 1
		}
	}
	nc, err := s.start(ctx, sc, enrollment.Challenge{User: user, Phone: e164, Masked: masked, Purpose: purpose, Channel: channel,
		DeviceID: devID, DeviceName: name, LimitKey: f.LimitKey, Lang: lang, Resends: resends})
	if err != nil {
		return nil, err
	}
	s.discard(ctx, sc.Realm, f) // only now: a failed send keeps the old code
	s.sent(nc, user, e164)
	f.pending(nc)
	return nc, nil
}

// Resend sends the pending challenge's code again, after its cooldown. An
// expired challenge is never revived: a fresh code goes where a new one
// would.
func (s *Service) Resend(ctx context.Context, sc enrollment.Scope, f *Flow, user string, c *enrollment.Challenge) (*enrollment.Challenge, error) {
	if c == nil || !s.Now().Before(c.Expires) {
		return s.Send(ctx, sc, f, user, s.Channels[0], nil, "", "")
	}
	if err := s.enrollClosed(ctx, sc.Realm, f, c); err != nil {
		return nil, err
	}
	sc.Blind = s.blind(sc, c.Purpose)
	nc, err := s.Challenges.Resend(ctx, sc, c.ID)
	s.notSent(ctx, sc, c.User, c.Phone, c.DeviceID, nc, err)
	s.Challenges.NoteCall(ctx, sc, c, err)
	if err != nil {
		return nil, err
	}
	s.sent(nc, user, nc.Phone, zap.Int("resend", nc.Resends))
	f.pending(nc)
	return nc, nil
}

// sent tells the audit log of c's code sent to e164 (none for a decoy, or
// a Blind send that did not go out): code_sent, or, where the gateway
// could not confirm it went out, code_unconfirmed (it counts as sent),
// with why (unconfirmed).
func (s *Service) sent(c *enrollment.Challenge, user, e164 string, fields ...zap.Field) {
	if e164 == "" || c.Undelivered != nil {
		return
	}
	fields = append(fields, zap.String("purpose", c.Purpose), zap.String("channel", string(c.Channel)))
	if c.Unconfirmed != nil {
		s.unconfirmed(user, e164, c.Unconfirmed, fields...)
		return
	}
	s.audit("code_sent", user, e164, fields...)
}

// unconfirmed tells the audit log of a code the gateway may have sent
// (code_unconfirmed), and why: its error, for the log line only (the
// console shows none; redacted of the number and the code where the
// provider failed). A chain's provider says it in its own line too, but
// a Verify provider's send is no chain's: this line is all that says it.
func (s *Service) unconfirmed(user, e164 string, err error, fields ...zap.Field) {
	s.audit("code_unconfirmed", user, e164, append(fields, zap.Error(cause(err)))...)
}

// cause is err for the admin's log: a delivery's failure as the provider
// said it, not the user's words (SendError's text).
func cause(err error) error {
	if send := new(enrollment.SendError); errors.As(err, &send) {
		return send.Err
	}
	return err
}

// enrollClosed ends c, a first phone's pending code, where this gate no
// longer lets its user enroll (a reload closed enrollment), or where the
// invite the flow accepted has enrolled a phone already or a reset ended
// it (a copy of its flow's cookie: inviteStands): no more texts or calls
// for a code that would enroll nothing (Check refuses it). It returns the
// step the user is at instead; and where its user's name now differs only
// in case from an enrolled user's (caseTwin), ErrCaseTwin.
func (s *Service) enrollClosed(ctx context.Context, realm string, f *Flow, c *enrollment.Challenge) error {
	if c == nil || c.Purpose != enrollment.Enroll {
		return nil
	}
	ok := s.mayEnroll(f, c.User)
	if ok && f.InvitedAs(c.User) {
		var err error
		if ok, err = s.inviteStands(ctx, realm, c.User, f); err != nil {
			return err
		}
	}
	if ok {
		if err := s.caseTwin(ctx, realm, f, c.User, false); err != nil {
			s.discard(ctx, realm, f) // nor another code for it
			return err
		}
		return nil
	}
	s.discard(ctx, realm, f)
	step, err := s.Next(ctx, realm, f, c.User)
	if err != nil {
		return err
	}
	return &StepError{Step: step}
}

// start starts a challenge; when the number's SIM was swapped recently,
// the send is refused and the user's other phones are told. After a login
// form, a code that could not be sent is answered as a decoy's would be
// (see enrollment.Scope.Blind), and only the admin's log says why.
func (s *Service) start(ctx context.Context, sc enrollment.Scope, c enrollment.Challenge) (*enrollment.Challenge, error) {
	sc.Blind = s.blind(sc, c.Purpose)
	nc, err := s.Challenges.Start(ctx, sc, c)
	s.notSent(ctx, sc, c.User, c.Phone, c.DeviceID, nc, err)
	s.Challenges.NoteCall(ctx, sc, &c, err)
	return nc, err
}

// notSent logs why a code was not sent where the answer does not say it
// (a Blind send), and tells the user's other phones of a swapped SIM —
// after a Blind answer, not in its time, which must tell nothing.
func (s *Service) notSent(ctx context.Context, sc enrollment.Scope, user, e164, deviceID string, c *enrollment.Challenge, err error) {
	if err == nil && c.Undelivered != nil {
		s.undelivered(user, e164, c.Undelivered)
		bg := context.WithoutCancel(ctx)
		s.later(func() { s.simSwapped(bg, sc, user, e164, deviceID, c.Undelivered) })
		return
	}
	s.simSwapped(ctx, sc, user, e164, deviceID, err)
}

// blind reports whether a send for purpose must not tell the client that
// it failed: a sign-in after a login form, where unknown names get decoys
// — but not to the user's own known browser, which learns nothing new.
func (s *Service) blind(sc enrollment.Scope, purpose string) bool {
	return s.Identity.NamesThemselves() && purpose == enrollment.Verify && !sc.Known
}

// undelivered logs, for the admin, a code that a login form's answer
// says was sent, and why it was not.
func (s *Service) undelivered(user, e164 string, err error) {
	if errors.As(err, new(*enrollment.RefusedError)) {
		s.audit("number_refused", user, e164, zap.String("reason", err.Error()))
		return
	}
	if enrollment.MaybeSent(err) {
		// The gateway may have taken it (a timeout, a 5xx): it counts as sent.
		s.unconfirmed(user, e164, err, zap.String("purpose", enrollment.Verify))
		return
	}
	if cd := new(enrollment.CooldownError); errors.As(err, &cd) {
		// Its number's wait (a name and its number typed in turn): no fault.
		s.Logger.Info("code_not_sent", zap.String("event", "code_not_sent"), zap.String("user", user),
			zap.String("reason", Reason(err)), zap.Duration("wait", cd.Wait))
		return
	}
	s.Logger.Error("code_not_sent", zap.String("event", "code_not_sent"), zap.String("user", user),
		zap.String("reason", Reason(err)), zap.Error(cause(err)))
}

func (s *Service) simSwapped(ctx context.Context, sc enrollment.Scope, user, e164, deviceID string, err error) {
	var swap *providers.SIMSwapError
	if !errors.As(err, &swap) {
		return
	}
	s.audit("sim_swap", user, e164, zap.Duration("within", swap.Within), zap.String("ip", sc.IP))
	first, undo := s.Devices.FirstSwapNotice(ctx, sc.Realm, user, deviceID, s.Devices.Now())
	s.notifyFirst(ctx, first, undo, sc.Realm, user, deviceID, words.Say("notice.sim_swapped", "phone", phone.Mask(e164)))
}

// CanCall reports whether a call may go to user now ("call me instead"
// is offered only then): the hourly call limit is not spent.
func (s *Service) CanCall(ctx context.Context, sc enrollment.Scope, f *Flow, user string) bool {
	return s.Challenges.CallWait(ctx, sc, cmp.Or(f.LimitKey, user)) == 0
}
