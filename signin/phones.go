package signin

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/textsafe"
	"github.com/smsgate/caddy-smsgate/phone"
	"github.com/smsgate/caddy-smsgate/providers"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/words"
)

// A signed-in user's own phones and recovery codes (the devices page). The
// HTTP layer checks the session and its step-up before calling these.

// MakeDefault makes one of user's phones the one codes go to first.
func (s *Service) MakeDefault(ctx context.Context, realm, user, id string) error {
	return s.Devices.MakeDefault(ctx, realm, user, id)
}

// RemovePhone removes one of user's devices (the last one only where the
// site allows it), ends every session and trust it earned but the asking
// session keep and its trust (session.EndDevice: a lost phone's thief is
// cut off), and tells the other phones (remove).
func (s *Service) RemovePhone(ctx context.Context, realm, user, id string, keep *session.Claims) (Removal, error) {
	// The config's phone is a device she keeps (ConfigPhone).
	r, err := s.remove(ctx, realm, user, id, s.AllowRemoveLast || s.ConfigPhone(user) != "", keep)
	if r.Device != nil { // the notice holds the number masked only: the audit's phone as it is (audit.Log.Audit)
		fields := []zap.Field{zap.String("device", r.Device.ID), zap.String("kind", r.Device.Kind.Name())}
		if r.Device.Masked != "" {
			fields = append(fields, zap.String("phone", r.Device.Masked))
		}
		s.audit("device_removed", user, "", append(fields, MintedFields(r.Minted)...)...)
	}
	return r, err
}

// AdminRemove is the admin's removal of user's device id (the admin API
// and console; the CLI through them while Caddy runs): the last one too,
// every session and trust it earned ended (none is the admin's), and her
// other phones told as her own removal tells them, in the same words: she
// learns of a removal she did not ask for, and asks the admin if it was
// not the admin's.
func (s *Service) AdminRemove(ctx context.Context, realm, user, id string) (Removal, error) {
	return s.remove(ctx, realm, user, id, true, nil)
}

// CodesWithdrawn names the audit event and the JSON field (the devices
// page's, the admin's answer) that say her recovery codes were withdrawn
// (a removal's: Removal.CodesWithdrawn; a lost provisioned number's).
const CodesWithdrawn = "recovery_codes_withdrawn"

// Removal is what a removal did that its answer tells.
type Removal struct {
	// Device is the removed device whose notice this removal owed (nil
	// where another removal told it), its number masked.
	Device *enrollment.Owed
	// Told is how many texts its notice let out (Notify).
	Told int
	// CodesWithdrawn says that this removal withdrew the user's recovery
	// codes (a session the device earned made them): she makes new ones.
	CodesWithdrawn bool
	// Minted is what it did with the invites she minted as an admin at
	// the console through a session the device earned (attack36 F3).
	Minted session.MintedEnd
	// Owed says, of a removal that tells nobody (RemoveDevice), that its
	// notice is still owed: a removal of the device asked again through a
	// running Caddy tells it. OwedUnread is the store's failure to say
	// whether it is (Owed then false: not known).
	Owed       bool
	OwedUnread error
	// unread is, of a removal asked again, the store's failure to read
	// whether it was told (TakeUntold): logged, the removal stands, and
	// the notice, if still owed, waits for the next ask.
	unread error
}

// remove is removeDevice, told to user's phones once a removal: by the
// removal that took the device away, or by one asked again after a
// removal the store wrote but answered as an error (which told nobody);
// not by one asked again after a removal that told them. Where the store
// failed the end, the notice does not say that browsers were signed out
// (they were not yet: its _unfinished words). The removal that withdrew
// her recovery codes (one, whichever try it was) tells her phones so too,
// and audits it (recovery_codes_withdrawn: the device's ID, no code).
func (s *Service) remove(ctx context.Context, realm, user, id string, allowLast bool, keep *session.Claims) (Removal, error) {
	r, err := removeDevice(ctx, s.Devices, realm, user, id, allowLast, keep, true)
	if r.unread != nil {
		s.Logger.Error("reading whether a removal was told", zap.String("user", textsafe.Escape(user)), zap.Error(r.unread))
	}
	if removed := r.Device; removed != nil {
		notice := "notice." + removed.Kind.Name() + "_removed"
		if err != nil {
			notice += "_unfinished"
		}
		r.Told = s.Notify(ctx, realm, user, "", words.Say(notice, "phone", removed.Masked))
	}
	if r.CodesWithdrawn {
		s.codesWithdrawn(ctx, realm, user, id)
	}
	return r, err
}

// codesWithdrawn audits that the removal of user's device id withdrew her
// recovery codes (the device's ID, no code), and tells her phones so.
func (s *Service) codesWithdrawn(ctx context.Context, realm, user, id string) {
	s.audit(CodesWithdrawn, user, "", zap.String("device", id))
	s.Notify(ctx, realm, user, "", words.Say("notice.recovery_withdrawn"))
}

// removeDevice removes user's device id and ends what it earned but keep
// (session.EndDevice, and the recovery codes a session it earned made),
// for the devices page and the admin alike. Asked
// again after an end the store failed, it finds the device gone (its
// tombstone) and ends what it earned then; else it would be ErrNoDevice,
// and the thief's session stayed for good. Where tell, it answers the
// device whose removal is to be told to her phones (the notice it owes:
// enrollment.TakeUntold), with the end's error, if any: nil where another
// removal told it or tells it (one asked again at once), and where the
// removal failed before the device went. A removal the store wrote but
// answered as an error told nobody, and its notice is still owed: asked
// again, the removal takes it. Of the removal that took the device away,
// a notice the store could not take is answered all the same (told twice
// rather than never). A removal asked again writes in the end the mark
// the device recorded (its AddedBy: EndMarkedDevice) as its owed notice
// keeps it (enrollment.Devices.RemovedMark), where the first removal's
// end failed or another removal took the device away at once; one that
// cannot read it ends all the same and answers the error (asked again,
// it fills in the mark: the end's againAt). CodesWithdrawn says that this call withdrew the
// recovery codes (enrollment.ForgetCodesMadeBy, a compare-and-delete: of
// removals asked again, only the one that withdrew them says so). Told is
// left to the caller.
func removeDevice(ctx context.Context, d *enrollment.Devices, realm, user, id string, allowLast bool, keep *session.Claims, tell bool) (r Removal, err error) {
	removed, err := d.RemoveOwing(ctx, realm, user, id, allowLast)
	if errors.Is(err, enrollment.ErrNoDevice) {
		if gone, rerr := d.Removed(ctx, realm, user, id); rerr != nil || !gone {
			return r, err
		}
	} else if err != nil {
		return r, err
	}
	if tell {
		r.Device, r.unread = d.TakeUntold(ctx, realm, user, id)
		if r.unread != nil && removed != nil {
			r.Device, r.unread = enrollment.OwedOf(*removed), nil // told twice rather than never
		}
	}
	mark, unread := "", error(nil) // the removed device's AddedBy, for the session the end keeps (AddingFrom)
	if removed != nil {
		mark = removed.AddedBy
	} else if keep != nil && keep.DeviceID() == id { // gone: as its owed notice keeps it (RemovedMark)
		mark, unread = d.RemovedMark(ctx, realm, user, id)
	}
	if err := session.EndMarkedDevice(ctx, d.Store, realm, user, id, mark, keep, d.Now()); err != nil {
		return r, err
	}
	// An admin's invites minted through a session it earned end with it
	// (and those of an index entry naming no session: attack36 F3).
	if r.Minted, err = session.EndMintedOf(ctx, d.Store, realm, user, d.Now(), d.Logger, session.MintedOfDevice(id, keep)); err != nil {
		return r, err
	}
	r.CodesWithdrawn, err = d.ForgetCodesMadeBy(ctx, realm, user, id) // the set a session it earned made
	if err == nil && !r.CodesWithdrawn && removed != nil {
		r.CodesWithdrawn, err = forgetMakerlessWithFirst(ctx, d, realm, user, *removed)
	}
	return r, cmp.Or(err, unread)
}

// RemoveDevice is the admin's removal of user's device id with Caddy
// stopped (the CLI on its store): the last one too, what it earned ended
// (removeDevice), and no phone told, no provider being loaded. The notice
// it owes stays owed (Owed says so), for the same removal asked again
// through a running Caddy to tell within a day (the device gone, it finds
// the notice owed). Before, it marked the notice told: a removal the API
// had written but answered as an error was then told by no try.
func RemoveDevice(ctx context.Context, d *enrollment.Devices, realm, user, id string) (Removal, error) {
	r, err := removeDevice(ctx, d, realm, user, id, true, nil, false)
	if err == nil {
		r.Owed, r.OwedUnread = d.Untold(ctx, realm, user, id)
	}
	return r, err
}

// RenewRecovery replaces user's recovery codes with a new set, to show
// once; live is the asking session's (see Live), device the one that
// earned it ("" for none: a recovery code's), whose removal withdraws the
// set (Devices.MadeBy, ForgetCodesMadeBy).
//
// A renewal that is not kept (its session ended, or the store could not
// say whether it did) puts back the set it replaced, and only while the
// stored set is still its own (enrollment.UndoRenewal): another session's
// renewal meanwhile is left alone, and the user is not left with no codes.
// When the check could not be read, the new codes are not shown (an ended
// session must not see them: failing closed) and its error is answered
// (logged, "unavailable, try again"); putting the old set back rather
// than deleting the new one is what keeps that from costing the user the
// codes they saved. If the store cannot do the undo either, the new set
// stays, seen by nobody, and the failure is logged.
func (s *Service) RenewRecovery(ctx context.Context, realm, user, device string, live Live) ([]string, error) {
	r, err := s.Devices.RenewRecoveryCodes(ctx, realm, user)
	if err != nil {
		return nil, err
	}
	undo := func(ctx context.Context) error { return s.Devices.UndoRenewal(ctx, realm, user, r) }
	if device != "" {
		// Before the session is read again: a removal of the device
		// either ended it first (undone here) or finds this record.
		if err := s.Devices.MadeBy(ctx, realm, user, r, device); err != nil {
			if uerr := undo(context.WithoutCancel(ctx)); uerr != nil {
				s.Logger.Error("undoing recovery codes whose maker was not recorded", zap.Error(uerr))
			}
			return nil, err
		}
	}
	if err := s.kept(ctx, live, undo); err != nil {
		return nil, err
	}
	s.audit("recovery_codes_renewed", user, "")
	// The old set no longer works: whoever holds the user's phones is told.
	s.Notify(ctx, realm, user, "", words.Say("notice.recovery_renewed"))
	return r.Codes, nil
}

// Notify tells user's phones (all but except) about a change to their
// account, so that an intruder's change does not go unseen: the enrolled
// ones and a provisioned one. In verify-only mode the enrolled numbers are
// not kept, and cannot be told. notice is a notice.* text; it is given the
// site's name as {site}, and each phone reads it in its own language (the
// one it was enrolled in, else the user's). It returns how many texts it
// let out (sent or tried; none where every one was held back).
func (s *Service) Notify(ctx context.Context, realm, user, except string, notice words.Text) int {
	list, err := s.Devices.List(ctx, realm, user)
	if err != nil {
		s.Logger.Error("reading devices for a notice", zap.Error(err))
		return 0
	}
	if e164 := s.ConfigPhone(user); e164 != "" && !slices.ContainsFunc(list, func(d enrollment.Device) bool { return d.Phone == e164 }) {
		list = append(list, enrollment.Device{Phone: e164})
	}
	args := map[string]any{"site": s.Site}
	for k, v := range notice.Args {
		args[k] = v
	}
	notice.Args = args
	to := slices.DeleteFunc(slices.Clone(list), func(d enrollment.Device) bool { return (except != "" && d.ID == except) || d.Phone == "" })
	if len(to) == 0 {
		return 0
	}
	// Notices are bounded as codes are (enrollment.MaxNotices a user an
	// hour, and the budget of texts to enrolled numbers).
	// The hour's last notice says that the next ones are not texted.
	took := s.Devices.TakeNotice(ctx, realm, user, len(to), s.Devices.Now())
	if took.Allowed < len(to) {
		s.Logger.Warn("notice_not_sent", zap.String("event", "notice_not_sent"), zap.String("user", textsafe.Escape(user)),
			zap.String("notice", notice.ID), zap.String("limit", took.Limit), zap.Int("phones", len(to)-took.Allowed))
	}
	for _, d := range to[:took.Allowed] {
		lang := cmp.Or(d.Lang, langOf(list))
		body := s.Devices.Say(lang, notice)
		if took.Last {
			body += " " + s.Devices.Say(lang, words.Say("notice.last"))
		}
		m := providers.Message{To: d.Phone, Channel: factor.ChannelSMS, Host: s.Host, Body: body}
		if err := s.Notices.Send(ctx, m); err != nil {
			s.Logger.Warn("notice not sent", zap.String("user", textsafe.Escape(user)), zap.String("to", phone.Mask(d.Phone)), zap.Error(err))
			continue
		}
		s.audit("notice_sent", user, d.Phone, zap.String("notice", notice.ID))
	}
	return took.Allowed
}

// langOf is the user's language as their devices tell it: the one the
// most recently used device was added in (English when none says).
func langOf(list []enrollment.Device) string {
	for _, d := range list { // the most recently used first
		if d.Lang != "" {
			return d.Lang
		}
	}
	return "en"
}

// Holds reports whether user still holds device (true for "", none; for
// a config's phone, whether this gate gives it: Gives): a
// sign-in that a device's code or answer earned reads it once its trust
// is written and its session listed, and withdraws them when the device
// was removed meanwhile (session.EndDevice read them before).
func (s *Service) Holds(ctx context.Context, realm, user, device string) (bool, error) {
	if device == "" || session.IsNumberMark(device) {
		return device == "" || s.Gives(user, device), nil
	}
	d, err := s.Devices.Find(ctx, realm, user, device)
	return d != nil, err
}

// PhonesOf lists user's phones, the default first.
func (s *Service) PhonesOf(ctx context.Context, realm, user string) ([]enrollment.Device, error) {
	return s.Devices.List(ctx, realm, user)
}

// RecoveryLeft counts user's unused recovery codes.
func (s *Service) RecoveryLeft(ctx context.Context, realm, user string) (int, error) {
	return s.Devices.RecoveryCodesLeft(ctx, realm, user)
}

// Live says whether the session that asked for a change is still live,
// asked once the change is written (session.Manager.Live). A change made
// for a session that ended meanwhile (an admin's reset, a sign-out
// everywhere, which revoke before they remove anything) is undone and
// answered ErrEnded: a reset leaves no factor an intruder added during it.
type Live func(context.Context) (bool, error)

// ErrEnded answers a change whose session ended while it was made.
var ErrEnded = enrollment.ErrEnded

// kept checks a written change against live, and undoes it (undo) when
// its session ended or cannot be told live. An undo that fails is logged
// with whose (the fields given) and not asked again.
func (s *Service) kept(ctx context.Context, live Live, undo func(context.Context) error, whose ...zap.Field) error {
	ok, err := live(ctx)
	if err == nil && ok {
		return nil
	}
	if uerr := undo(context.WithoutCancel(ctx)); uerr != nil {
		s.Logger.Error("undoing a change made for a session that ended", append(whose, zap.Error(uerr))...)
	}
	return cmp.Or(err, ErrEnded)
}

// keptRemoving is kept, undoing the adding of user's device id, begun at
// since (removing). A failed undo is logged with her name and the
// device's ID (never its number): the admin finishes it by removing that
// device again (removeDevice finds its tombstone and ends what it earned).
func (s *Service) keptRemoving(ctx context.Context, live Live, realm, user, id string, since time.Time) error {
	return s.kept(ctx, live, s.removing(realm, user, id, since), zap.String("user", textsafe.Escape(user)), zap.String("device", id))
}

// keptAdding checks the adding of user's device id, begun at since,
// against live (kept). Of two addings of one device at once (a double
// submit, two tabs), one adds it (added), and only that one may undo it,
// for its own session; the other, which found it added, undoes nothing,
// but answers for its own session all the same: refused (ErrEnded) once
// that ended. Only the one that added it tells the user's phones.
func (s *Service) keptAdding(ctx context.Context, live Live, realm, user, id string, since time.Time, added bool) error {
	if added {
		return s.keptRemoving(ctx, live, realm, user, id, since)
	}
	return s.kept(ctx, live, func(context.Context) error { return nil })
}

// removing undoes the adding of user's device id, begun at since. A
// device enrolled before that is one the user had (a phone added again is
// found by its number, and its ID answered) and stays: an undone adding
// must not take away what it did not add. What the device earned while it
// was listed (a sign-in with it from another browser, between its write
// and the check of its adding's session; the recovery codes such a session
// made, the invites it minted) ends with it, as at any removal
// (session.EndUndoneDevice, endUndoneMinted, ForgetCodesMadeBy), but for
// what names no device (a session or trust of a release before the
// claim), which a removal ends and it never earned;
// the removal itself is told to nobody, as its adding was not.
func (s *Service) removing(realm, user, id string, since time.Time) func(context.Context) error {
	return func(ctx context.Context) error {
		list, err := s.Devices.List(ctx, realm, user)
		if err != nil {
			return err
		}
		if i := slices.IndexFunc(list, func(d enrollment.Device) bool { return d.ID == id }); i < 0 || list[i].Enrolled.Before(since) {
			return nil
		}
		if _, err = s.Devices.Remove(ctx, realm, user, id, true); err != nil {
			return err
		}
		if err := session.EndUndoneDevice(ctx, s.Devices.Store, realm, user, id, s.Devices.Now()); err != nil {
			return err
		}
		if err := s.endUndoneMinted(ctx, realm, user, id); err != nil {
			return err
		}
		if withdrawn, err := s.Devices.ForgetCodesMadeBy(ctx, realm, user, id); err != nil || !withdrawn {
			return err
		}
		s.codesWithdrawn(ctx, realm, user, id)
		return nil
	}
}
