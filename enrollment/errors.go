package enrollment

import (
	"errors"
	"time"

	"github.com/smsgate/caddy-smsgate/providers"
	"github.com/smsgate/caddy-smsgate/words"
)

// The errors of the sign-in's codes. Each carries words for the user
// (package words renders them in the reader's language); Error() is the
// English text.
var (
	ErrNoChallenge = words.New("code.no_challenge")
	ErrExpired     = words.New("code.expired")
	ErrTooMany     = words.New("code.too_many")
	// ErrEnrolled ends an enrollment that another one beat: the account
	// has a phone now, and adding another takes a signed-in step-up.
	ErrEnrolled = words.New("code.enrolled")
)

// WrongCodeError says a code did not match and how many tries are left:
// this code's (a texted or called one's), or, Locks, the wrong codes
// before sign-in locks (lockout_after, max_failures), where that comes
// first; an app's code always counts toward the lock (walk34: "9 tries
// left" for an app's code and "4" for the texted one on one page, each
// true of something else).
type WrongCodeError struct {
	Left  int
	Locks bool
}

func (e *WrongCodeError) Words() words.Text {
	return words.Text{ID: "code.wrong", Args: map[string]any{"n": e.Left}}
}
func (e *WrongCodeError) Error() string { return words.English.Render("en", e.Words()) }

// CooldownError says "send again" came too early.
type CooldownError struct{ Wait time.Duration }

func (e *CooldownError) Words() words.Text {
	return words.Text{ID: "code.cooldown", Args: map[string]any{"wait": words.Wait(e.Wait)}}
}
func (e *CooldownError) Error() string { return words.English.Render("en", e.Words()) }

// LimitError says a send was refused by a limit; Limit names which.
type LimitError struct {
	Limit string
	Wait  time.Duration
	// Adding: the refused code was for a phone being added (a first one,
	// or another of a signed-in user), where no other way to sign in is
	// there to offer: the pumping guard's words offer none (walk38).
	Adding bool
}

func (e *LimitError) Words() words.Text {
	id := "limit." + e.Limit
	if e.Adding && e.Limit == "pumping" {
		id = "limit.pumping_adding"
	}
	return words.Text{ID: id, Args: map[string]any{"wait": words.Wait(e.Wait)}}
}
func (e *LimitError) Error() string { return words.English.Render("en", e.Words()) }

// LockedError says sign-in is locked after too many wrong codes. Started
// is set on the attempt that began the lockout; Account says it locks the
// account for everyone like this browser (strangers, or the owner's known
// browsers), not only this IP; AccountWait, when set, is how long the
// account's lock holds, shorter than Wait when the same wrong code began
// this IP's longer one too. Unwritten is the store's failure to write
// the IP's lock the same wrong code began with the account's (which
// holds): for the admin's log.
type LockedError struct {
	Wait        time.Duration
	Started     bool
	Account     bool
	AccountWait time.Duration
	Unwritten   error
}

func (e *LockedError) Words() words.Text {
	return words.Text{ID: "code.locked", Args: map[string]any{"wait": words.Wait(e.Wait)}}
}
func (e *LockedError) Error() string { return words.English.Render("en", e.Words()) }

// RefusedError says the number may not be sent a code (the phone
// policy); its words say why.
type RefusedError struct{ Err error }

func (e *RefusedError) Error() string { return e.Err.Error() }
func (e *RefusedError) Unwrap() error { return e.Err }

// SendError wraps a delivery failure; the cause is for the admin's log
// only: the user hears what the provider said of the number, or that the
// code could not be sent.
type SendError struct{ Err error }

func (e *SendError) Words() words.Text {
	var ue *providers.UserError
	if errors.As(e.Err, &ue) {
		return ue.Words() // the number is at fault, and the provider said why
	}
	return words.Text{ID: "code.not_sent"}
}
func (e *SendError) Error() string { return words.English.Render("en", e.Words()) }
func (e *SendError) Unwrap() error { return e.Err }

// cmpErr returns err, or fallback when err is nil.
func cmpErr(err, fallback error) error {
	if err != nil {
		return err
	}
	return fallback
}
