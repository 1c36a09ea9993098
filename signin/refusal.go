package signin

import (
	"errors"
	"time"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/internal/errmatch"
	"github.com/smsgate/caddy-smsgate/providers"
)

// A Refusal is an error of the sign-in, read once: its name (for metrics
// and the audit log), its Class (what it means for the answer: the pages
// give each class its HTTP status, in one table), how long to wait, and
// the error itself, whose words the user reads. Refuse makes one from any
// error; one the sign-in does not know is a Fault.
type Refusal struct {
	Reason string // a row's name in refusals, "limit_" and a send limit's name, or "error"
	Class  Class
	Wait   time.Duration // how long until trying again helps (Retry-After)
	// Limit names the send limit that refused (reason "limit_<Limit>").
	Limit string
	// LockStarted says this error began a lockout.
	LockStarted bool
	// Cause is a gateway's own error behind a code not sent: for the
	// admin's log only.
	Cause error
	Err   error
}

func (r *Refusal) Error() string { return r.Err.Error() }
func (r *Refusal) Unwrap() error { return r.Err }

// Class is what a refusal means for the one refused.
type Class int

const (
	unclassified Class = iota // a row of refusals without a class: a test refuses it
	// Fault is not the sign-in's own error (the store, a bug): logged,
	// and the user only told to try again later.
	Fault
	// Mistake is the user's to fix or retry: a wrong code, an expired one,
	// a number the policy or the provider refuses.
	Mistake
	// Wait is "not now": a lockout, a cooldown, a send limit.
	Wait
	// Barred is refused whatever the user does now (a SIM just swapped).
	Barred
	// Unavailable is a gateway that failed (the provider, its lookup):
	// the user is told; nothing of theirs is wrong.
	Unavailable
	// Gone is a thing the request names by its ID (a device) that is not
	// there: removed, here or in another window. The other rows for
	// something missing name nothing: a code's challenge, an invite, a
	// passkey are the flow's, which is there; they are Mistakes.
	Gone
)

// Refuse reads err: the first row of refusals that matches names it; a
// send limit is "limit_" and its name; anything else is a Fault.
func Refuse(err error) *Refusal {
	r := &Refusal{Reason: "error", Class: Fault, Err: err}
	var (
		limit  *enrollment.LimitError
		locked *enrollment.LockedError
		cool   *enrollment.CooldownError
		send   *enrollment.SendError
	)
	if errors.As(err, &send) {
		r.Cause = send.Err
	}
	switch {
	case errors.As(err, &limit):
		r.Reason, r.Class, r.Limit, r.Wait = "limit_"+limit.Limit, Wait, limit.Limit, limit.Wait
		return r
	case errors.As(err, &locked):
		r.Wait, r.LockStarted = locked.Wait, locked.Started
	case errors.As(err, &cool):
		r.Wait = cool.Wait
	}
	for _, row := range refusals {
		if row.is(err) {
			r.Reason, r.Class = row.name, row.class
			break
		}
	}
	return r
}

// Reason names what went wrong, for metrics and the audit log.
func Reason(err error) string { return Refuse(err).Reason }

// refusals are the sign-in's errors by name and class, the first that
// matches wins: the one table where an error gets its class, and so (in
// pages) its HTTP status. An error of signin, enrollment, session, phone or
// providers that is in no row is a Fault (503): TestEveryErrorHasARow
// fails for one nobody added here or named there as no refusal.
var refusals = []struct {
	name  string
	class Class
	is    func(error) bool
}{
	{"wrong_code", Mistake, errmatch.As[*enrollment.WrongCodeError]},
	{"locked", Wait, errmatch.As[*enrollment.LockedError]},
	{"cooldown", Wait, errmatch.As[*enrollment.CooldownError]},
	{"recovery_tries", Wait, errmatch.Is(enrollment.ErrRecoveryTries)},
	{"too_many", Mistake, errmatch.Is(enrollment.ErrTooMany)},
	{"expired", Mistake, errmatch.Is(enrollment.ErrExpired)},
	{"expired", Mistake, errmatch.Is(enrollment.ErrNoChallenge)},
	{"code_used", Mistake, errmatch.Is(enrollment.ErrCodeUsed)},
	{"app_unreadable", Mistake, errmatch.Is(enrollment.ErrAppUnreadable)},
	{"passkey_refused", Mistake, errmatch.Is(enrollment.ErrPasskey)},
	{"no_passkey", Mistake, errmatch.Is(enrollment.ErrNoPasskey)},
	{"expired", Mistake, errmatch.Is(enrollment.ErrNoAppSetup)},
	{"already_enrolled", Mistake, errmatch.Is(enrollment.ErrEnrolled)},
	{"wrong_recovery_code", Mistake, errmatch.Is(enrollment.ErrWrongRecovery)},
	{"recovery_not_here", Barred, errmatch.Is(ErrRecoveryNotHere)},
	{"case_twin", Barred, errmatch.Is(ErrCaseTwin)},
	{"case_twin", Barred, errmatch.Is(ErrTwinClaimed)},
	{"number_refused", Mistake, errmatch.As[*enrollment.RefusedError]},
	{"sim_swapped", Barred, errmatch.As[*providers.SIMSwapError]},
	{"lookup_failed", Unavailable, errmatch.As[*providers.LookupError]},
	{"number_rejected", Mistake, func(err error) bool { // the number is at fault: the user can fix it
		var send *enrollment.SendError
		return errors.As(err, &send) && errors.As(send.Err, new(*providers.UserError))
	}},
	{"provider_failed", Unavailable, errmatch.As[*enrollment.SendError]},
	// What was typed or asked for, the user's to fix.
	{"code_format", Mistake, errmatch.As[*CodeFormatError]},
	{"number_unreadable", Mistake, errmatch.As[*InputError]},
	{"number_unreadable", Mistake, errmatch.As[*AskPhoneError]},
	{"no_name", Mistake, errmatch.Is(ErrName)},
	{"no_calls", Mistake, errmatch.Is(ErrNoCalls)},
	{"no_texts", Mistake, errmatch.Is(ErrNoTexts)},
	// The devices page's changes.
	{"no_device", Gone, errmatch.Is(enrollment.ErrNoDevice)},
	{"device_name_empty", Mistake, errmatch.Is(ErrDeviceName)},
	{"last_device", Mistake, errmatch.Is(enrollment.ErrLastDevice)},
	{"devices_full", Mistake, errmatch.Is(enrollment.ErrMaxDevices)},
	// An invite link.
	{"invite_dead", Mistake, errmatch.Is(enrollment.ErrInvite)},
	{"invite_replaced", Mistake, errmatch.Is(enrollment.ErrInviteReplaced)},
	{"invite_ended", Mistake, errmatch.Is(enrollment.ErrInviteEnded)},
	{"invite_withdrawn", Mistake, errmatch.Is(enrollment.ErrInviteWithdrawn)},
	{"invite_minter_gone", Mistake, errmatch.Is(ErrInviteMinterGone)},
	{"invite_other", Mistake, errmatch.Is(ErrOtherInvite)},
	{"invite_not_here", Mistake, errmatch.Is(ErrInviteNotHere)},
}
