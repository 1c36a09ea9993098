package signin

import (
	"context"
	"errors"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/textsafe"
	"github.com/smsgate/caddy-smsgate/words"
)

// Result is a sign-in that succeeded.
type Result struct {
	User string
	// AMR is how the user proved themselves (RFC 8176): "sms" or "tel"
	// for a code, "recovery" for a recovery code.
	AMR []factor.AMR
	// RecoveryCodes are new codes to show once (after a first enrollment).
	RecoveryCodes []string
	// Device is the ID of the device whose code or answer it took (of a
	// recovery code, the device whose session made its set; "" for none):
	// its session and trust name it, and end with its removal
	// (session.EndDevice). For a phone of the config's, or a recovery code
	// whose set its session made, its mark (session.NumberMark): they
	// stand while a config gives it.
	Device string
}

// Check takes what the user typed at the verify step: a recovery code
// (always with a letter), or the code of the pending challenge c. A
// recovery code is checked only for a named user, where a code could also
// have been asked for. live is the signed-in session's that adds a phone
// (a challenge for enrollment.Add: see Live), else nil.
func (s *Service) Check(ctx context.Context, sc enrollment.Scope, f *Flow, user string, c *enrollment.Challenge, input string, live Live) (*Result, error) {
	if code, ok := enrollment.NormalizeRecovery(input); ok && user != "" {
		return s.useRecovery(ctx, sc, f, user, code)
	}
	if c == nil {
		return nil, enrollment.ErrNoChallenge
	}
	code, ok := enrollment.NormalizeCode(input, s.CodeLength)
	if !ok {
		return nil, &CodeFormatError{Length: s.CodeLength}
	}
	if c.Purpose == enrollment.Enroll && !s.mayEnroll(f, c.User) {
		// Enrollment closed since the code was sent (the admin reloaded the
		// config, say, to stop stolen passwords enrolling): it enrolls
		// nothing, and a new sign-in meets the closed door.
		s.discardChallenge(ctx, sc.Realm, c.ID)
		return nil, enrollment.ErrNoChallenge
	}
	since := s.Devices.Now() // before an added phone is written (removing)
	// A provisioned user's phone (no device record) proves the user only
	// while this config gives it to them (here, or at another gate of the
	// realm: ConfigPhone): a code sent before a reload took the phone away
	// (a lost phone) signs nobody in.
	if e164 := s.ConfigPhone(c.User); e164 != "" && c.Purpose == enrollment.Verify && c.Phone != "" {
		sc.Provisioned = e164 == c.Phone
	}
	if c.Purpose == enrollment.Enroll { // asked again as its device is written: a twin may have enrolled since the code was sent
		sc.First = func(ctx context.Context) error { return s.caseTwin(ctx, sc.Realm, f, c.User, true) }
	}
	done, err := s.Challenges.Check(ctx, sc, c, code)
	if errors.Is(err, ErrEnded) { // a phone added from a session whose device left her list: refused
		return nil, enrollment.ErrNoChallenge // its code is used up: a new sign-in
	}
	if errors.Is(err, ErrCaseTwin) || errors.Is(err, ErrTwinClaimed) {
		return nil, err // audited by caseTwin: no guess, no failure
	}
	if err != nil {
		s.verifyFailed(ctx, sc, user, c.Phone, factor.Phone, err)
		if errors.Is(err, enrollment.ErrTooMany) && c.Purpose == enrollment.Enroll {
			f.Enrolling, f.EnrollingFor = c.Phone, c.User // "send me a code" goes to the same number, hers only
		}
		return nil, err
	}
	res := &Result{User: done.User, AMR: []factor.AMR{amrOf(done.Channel)}, Device: done.DeviceID}
	if sc.Provisioned { // the config's phone: what it earns stands while the config gives it (session.CheckNumbers)
		res.Device = s.numberMark(c.Phone)
	}
	switch done.Purpose {
	case enrollment.Enroll:
		s.enrolledSince(sc.Realm) // a twin of hers is refused where it begins, not a snapshot later
		if f.InvitedAs(done.User) {
			// A reset since the invite was minted ends the enrollment it let
			// in, if it came before the reset removed every phone, and so
			// does a newer invite minted since it was accepted; and an
			// invite enrolls one phone: a copy of its flow, used once that
			// phone is removed, enrolls none (spend).
			standing := func(ctx context.Context) (bool, error) {
				ok, err := s.acceptedStands(ctx, sc.Realm, done.User, f)
				if err != nil || !ok {
					return ok, err
				}
				return s.spend(ctx, sc.Realm, done.User, f)
			}
			if err := s.keptRemoving(ctx, standing, sc.Realm, done.User, done.DeviceID, since); err != nil {
				return nil, cmpEnded(err, enrollment.ErrNoChallenge) // its code is used up: a new sign-in
			}
		}
		s.audit("enrolled", done.User, done.Phone, zap.String("device", done.DeviceID))
		codes, err := s.firstRecoveryCodes(ctx, sc.Realm, done.User, done.DeviceID)
		if err != nil {
			return nil, cmpEnded(err, enrollment.ErrNoChallenge) // a reset came between: a new sign-in
		}
		res.RecoveryCodes = codes
	case enrollment.Add:
		if live == nil {
			live = func(context.Context) (bool, error) { return false, nil } // a phone is added for a session only
		}
		// Of two checks of codes for one number at once (two tabs), the one
		// that found the phone added by the other tells nobody
		// (keptAdding; TestTwoPhoneAddsAtOnceNotifyOnce).
		if err := s.keptAdding(ctx, live, sc.Realm, done.User, done.DeviceID, since, done.Added); err != nil {
			return nil, cmpEnded(err, enrollment.ErrNoChallenge) // its code is used up: a new sign-in
		}
		if done.Added {
			s.audit("device_added", done.User, done.Phone, zap.String("device", done.DeviceID), zap.String("kind", factor.Phone.Name()))
			s.Notify(ctx, sc.Realm, done.User, done.DeviceID, words.Say("notice.phone_added", "phone", done.Masked))
		}
	}
	s.audit("verified", done.User, done.Phone)
	return res, nil
}

// mayEnroll reports whether this gate lets user enroll a first phone now:
// by an invite the flow accepted, or where the identity opens enrollment
// (a first factor, enrollment open), and never where the config gives her
// a phone (ConfigPhone: she is no newcomer at any gate of the realm). The
// config that checks a code decides, not the one that sent it.
func (s *Service) mayEnroll(f *Flow, user string) bool {
	return s.ConfigPhone(user) == "" && (f.InvitedAs(user) || s.Identity.first(user, false) == Enroll)
}

// amrOf is RFC 8176's name of how a code came: "sms", or "tel" for a call.
func amrOf(channel factor.Channel) factor.AMR {
	if channel.Kind() == factor.Voice {
		return factor.AMRTel
	}
	return factor.AMRSMS
}

// useRecovery signs the user in with a recovery code, burning it, and
// tells their phones.
//
// A user who holds no device any more (the last one removed under
// allow_remove_last, or by the admin's remove-device; a reset removes the
// recovery codes too) is not signed in by it: a session that no device
// backs would ask them for nothing but the next recovery code, until none
// is left. The code lets them enroll a first phone instead, as an invite
// does (even where enrollment is closed, and only while no reset comes
// after it), and the session comes with that phone's code: they are sent
// on to the Enroll step (*StepError). Not at a login form that does not
// name them (ErrRecoveryNotHere; the code is used up).
//
// That enrollment is marked (Flow.RecoveryID: enrollment.MarkRecovery)
// before the code is burnt, so a reset after the burn ends it by that ID
// whatever the clocks (clock32: stamped by a gate's clock ahead of the
// resetting one's, it stood). It is stamped (Flow.InvitedAt) then too: a
// code burnt was there, so its use came before a reset removed it, and the
// reset's last revocation comes after that (standing ends the enrollment).
// Stamped once no phone was found, after the notice's text went out, a
// reset made meanwhile came before the stamp, and let the code's holder
// enroll a phone after it (TestARecoveryCodeRacingAResetEnrollsNothing).
func (s *Service) useRecovery(ctx context.Context, sc enrollment.Scope, f *Flow, user, code string) (*Result, error) {
	used, mark := s.Devices.Now().UnixNano(), enrollment.RandomID()
	maker, err := s.Devices.UseRecoveryCodeMarked(ctx, sc, f.ID, user, code, mark)
	if unrecorded := new(enrollment.UnrecordedError); errors.As(err, &unrecorded) {
		// The code was right and is spent: she is signed in. Only its
		// record is missing, which an import of an older export reads.
		s.Logger.Error("recovery_code_unrecorded", zap.String("event", "recovery_code_unrecorded"),
			zap.String("user", textsafe.Escape(user)), zap.Error(unrecorded.Err))
		err = nil
	}
	if err != nil {
		s.verifyFailed(ctx, sc, user, "", factor.Phone, err)
		return nil, err
	}
	s.audit("recovery_code_used", user, "", zap.String("ip", sc.IP))
	s.Notify(ctx, sc.Realm, user, "", words.Say("notice.recovery_used"))
	has, err := s.HasDevice(ctx, sc.Realm, user)
	if err != nil {
		return nil, err
	}
	if !has && !s.Identity.names(user) {
		// A login form that names its users, and not this one: the phone
		// enrolled here could never sign in here (as an invite for them is
		// refused here). Their own gate takes their next code.
		return nil, ErrRecoveryNotHere
	}
	if !has {
		s.discard(ctx, sc.Realm, f) // a login form's decoy
		f.User, f.InvitedAt, f.Invitee, f.InviteID, f.RecoveryID = user, used, user, "", mark
		return nil, &StepError{Step: Enroll}
	}
	// A code of a set a device's session made earns a session that names
	// that device, as the set does: its removal ends both (a thief who made
	// codes with a stolen phone and signed in with one is cut off with it).
	// A set a config phone's session made names its number's mark: the
	// session stands only where the config still gives that number, and a
	// set renewed from it goes with the number.
	return &Result{User: user, AMR: []factor.AMR{factor.AMRRecovery}, Device: maker}, nil
}

// lockStarted audits a lockout that err began. When it locks the account
// (not only this IP), the user's phones are told, once a day at most, and
// not in the answer's time: whether a notice went out must not tell a
// known name from an unknown one.
func (s *Service) lockStarted(ctx context.Context, sc enrollment.Scope, user, e164 string, err error) {
	var locked *enrollment.LockedError
	if !errors.As(err, &locked) || !locked.Started {
		return
	}
	s.audit("locked_out", user, e164, zap.String("ip", sc.IP), zap.Duration("for", locked.Wait), zap.Bool("account", locked.Account))
	if locked.Unwritten != nil { // the account's lock holds, and is told
		s.Logger.Error("lock_unwritten", zap.String("event", "lock_unwritten"), zap.String("user", textsafe.Escape(user)),
			zap.String("ip", sc.IP), zap.Error(locked.Unwritten))
	}
	if !locked.Account {
		return
	}
	bg, at := context.WithoutCancel(ctx), s.Devices.Now()
	s.later(func() {
		first, undo := s.Devices.FirstNotice(bg, sc.Realm, user, at)
		wait := locked.Wait
		if locked.AccountWait > 0 {
			wait = locked.AccountWait // the account's, not this IP's longer lock
		}
		s.notifyFirst(bg, first, undo, sc.Realm, user, "", words.Say("notice.locked", "wait", words.Wait(wait)))
	})
}

// notifyFirst tells user's phones (all but except) notice where first says
// it is the first of its kind in its window (FirstNotice, FirstSwapNotice:
// once a day), and gives that count back (undo) where no text went out,
// held back by the user's hour of notices or the budget: the next one
// tells it, not the next day.
func (s *Service) notifyFirst(ctx context.Context, first bool, undo enrollment.Undo, realm, user, except string, notice words.Text) {
	if first && s.Notify(ctx, realm, user, except, notice) == 0 {
		undo(ctx)
	}
}

// verifyFailed audits a code, an app's or a passkey's answer (kind:
// factor.Phone for a code, factor.App, factor.Passkey) that err refused, after the lockout it started
// (lockStarted).
func (s *Service) verifyFailed(ctx context.Context, sc enrollment.Scope, user, e164 string, kind factor.Device, err error) {
	s.lockStarted(ctx, sc, user, e164, err)
	fields := []zap.Field{zap.String("reason", Reason(err)), zap.String("ip", sc.IP)}
	if kind != factor.Phone { // a phone's code, or a recovery code's: none named
		fields = append(fields, zap.String("kind", kind.Name()))
	}
	s.audit("verify_failed", user, e164, fields...)
}

// firstRecoveryCodes makes a user's first set of recovery codes, to show
// once right after their first enrollment of the phone device, where
// they hold none. The set stands only while that phone does: it records
// the phone as its maker (Devices.MadeBy, as RenewRecovery does), so the
// phone's removal withdraws it (ForgetCodesMadeBy: an intruder who took
// the invite first, her phone removed, keeps no codes, and the user
// invited again gets a set of his own: attack41), and a set whose maker
// cannot be recorded is withdrawn and not shown. The maker is recorded
// before the phone is looked for again: a removal either came first (the
// phone gone: withdrawn here, ErrEnded) or finds the record. An admin's
// reset removes the phones, then the codes, so a set written after the
// reset deleted the codes finds the phone gone, and is withdrawn; one
// written before, the reset deletes.
func (s *Service) firstRecoveryCodes(ctx context.Context, realm, user, device string) ([]string, error) {
	r, err := s.Devices.FirstRecoveryCodes(ctx, realm, user)
	if err != nil {
		s.Logger.Error("making recovery codes", zap.Error(err))
	}
	if r == nil {
		return nil, nil // the user holds some, or none could be made
	}
	undo := func(ctx context.Context) error { return s.Devices.UndoRenewal(ctx, realm, user, r) }
	if err := s.Devices.MadeBy(ctx, realm, user, r, device); err != nil {
		if uerr := undo(context.WithoutCancel(ctx)); uerr != nil {
			s.Logger.Error("undoing recovery codes whose maker was not recorded", zap.Error(uerr))
		}
		s.Logger.Error("recording the maker of recovery codes", zap.Error(err))
		return nil, nil // enrolled all the same, with no codes: she makes them on her devices page
	}
	enrolled := func(ctx context.Context) (bool, error) {
		d, err := s.Devices.Find(ctx, realm, user, device)
		return d != nil, err
	}
	if err := s.kept(ctx, enrolled, undo); err != nil {
		return nil, err
	}
	return r.Codes, nil
}
