package enrollment

import (
	"errors"
	"fmt"
	"time"

	"github.com/smsgate/caddy-smsgate/providers"
)

// Errors of Check and Resend. Their text is safe to show to the user.
var (
	ErrNoChallenge = errors.New("this code is no longer valid; request a new one")
	ErrExpired     = errors.New("this code has expired; request a new one")
	ErrTooMany     = errors.New("too many wrong codes; request a new one")
	// ErrEnrolled ends an enrollment that another one beat: the account
	// has a phone now, and adding another takes a signed-in step-up.
	ErrEnrolled = errors.New("a phone is already enrolled for this account; sign in with it")
)

// WrongCodeError says a code did not match and how many tries are left.
type WrongCodeError struct{ Left int }

func (e *WrongCodeError) Error() string {
	return fmt.Sprintf("wrong code; %d %s left", e.Left, plural(e.Left, "try", "tries"))
}

// CooldownError says "send again" came too early.
type CooldownError struct{ Wait time.Duration }

func (e *CooldownError) Error() string {
	s := int(e.Wait.Round(time.Second) / time.Second)
	if s < 1 {
		s = 1
	}
	return fmt.Sprintf("please wait %d %s before requesting another code", s, plural(s, "second", "seconds"))
}

// RefusedError says the number may not be sent a code (the phone
// policy); its text is safe to show to the user.
type RefusedError struct{ Err error }

func (e *RefusedError) Error() string { return e.Err.Error() }
func (e *RefusedError) Unwrap() error { return e.Err }

// SendError wraps a delivery failure; the cause is for the admin's log only.
type SendError struct{ Err error }

func (e *SendError) Error() string {
	var ue *providers.UserError
	if errors.As(e.Err, &ue) {
		return ue.Msg // the number is at fault, and the provider said why
	}
	return "the code could not be sent; please try again in a moment"
}
func (e *SendError) Unwrap() error { return e.Err }

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
