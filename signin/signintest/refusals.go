// Package signintest holds what the tests of the sign-in's refusals
// share, in signin and in pages: an example of every error that refuses a
// user.
package signintest

import (
	"errors"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/phone"
	"github.com/smsgate/caddy-smsgate/providers"
	"github.com/smsgate/caddy-smsgate/signin"
)

// Refusals is every declared error that refuses a user, by its name, as
// it reaches the pages (a phone's parse error wrapped as signin wraps it):
// signin's tests check that each has a row in signin's refusals, and that
// each row answers one of them (TestEveryErrorHasARow,
// TestEveryRowAnswersARefusal); pages' that the class of each has its HTTP
// status (TestEveryReasonHasAStatus).
var Refusals = map[string]error{
	"enrollment.ErrNoChallenge":     enrollment.ErrNoChallenge,
	"enrollment.ErrExpired":         enrollment.ErrExpired,
	"enrollment.ErrTooMany":         enrollment.ErrTooMany,
	"enrollment.ErrEnrolled":        enrollment.ErrEnrolled,
	"enrollment.ErrNoAppSetup":      enrollment.ErrNoAppSetup,
	"enrollment.ErrCodeUsed":        enrollment.ErrCodeUsed,
	"enrollment.ErrAppUnreadable":   enrollment.ErrAppUnreadable,
	"enrollment.ErrPasskey":         enrollment.ErrPasskey,
	"enrollment.ErrNoPasskey":       enrollment.ErrNoPasskey,
	"enrollment.ErrWrongRecovery":   enrollment.ErrWrongRecovery,
	"enrollment.ErrRecoveryTries":   enrollment.ErrRecoveryTries,
	"enrollment.ErrInvite":          enrollment.ErrInvite,
	"enrollment.ErrInviteReplaced":  enrollment.ErrInviteReplaced,
	"enrollment.ErrInviteEnded":     enrollment.ErrInviteEnded,
	"enrollment.ErrInviteWithdrawn": enrollment.ErrInviteWithdrawn,
	"enrollment.ErrLastDevice":      enrollment.ErrLastDevice,
	"enrollment.ErrNoDevice":        enrollment.ErrNoDevice,
	"enrollment.ErrMaxDevices":      enrollment.ErrMaxDevices,
	"enrollment.WrongCodeError":     &enrollment.WrongCodeError{},
	"enrollment.CooldownError":      &enrollment.CooldownError{},
	"enrollment.LimitError":         &enrollment.LimitError{Limit: "ip"},
	"enrollment.LockedError":        &enrollment.LockedError{},
	"enrollment.RefusedError":       &enrollment.RefusedError{Err: phone.ErrRegion},
	"enrollment.SendError":          &enrollment.SendError{Err: errors.New("twilio: 500")},
	"signin.ErrName":                signin.ErrName,
	"signin.ErrNoCalls":             signin.ErrNoCalls,
	"signin.ErrNoTexts":             signin.ErrNoTexts,
	"signin.ErrOtherInvite":         signin.ErrOtherInvite,
	"signin.ErrInviteNotHere":       signin.ErrInviteNotHere,
	"signin.ErrInviteMinterGone":    signin.ErrInviteMinterGone,
	"signin.ErrRecoveryNotHere":     signin.ErrRecoveryNotHere,
	"signin.ErrDeviceName":          signin.ErrDeviceName,
	"signin.ErrCaseTwin":            signin.ErrCaseTwin,
	"signin.ErrTwinClaimed":         signin.ErrTwinClaimed,
	"signin.CodeFormatError":        &signin.CodeFormatError{Length: 6},
	"signin.AskPhoneError":          &signin.AskPhoneError{Err: phone.ErrMalformed},
	"signin.InputError":             &signin.InputError{Err: phone.ErrMalformed},
	"phone.ErrMalformed":            &signin.InputError{Err: phone.ErrMalformed},
	"phone.ErrInvalid":              &signin.InputError{Err: phone.ErrInvalid},
	"phone.ErrType":                 &enrollment.RefusedError{Err: phone.ErrType},
	"phone.ErrRegion":               &enrollment.RefusedError{Err: phone.ErrRegion},
	"phone.ErrPrefix":               &enrollment.RefusedError{Err: phone.ErrPrefix},
	"phone.ErrTypeVoice":            &enrollment.RefusedError{Err: phone.ErrTypeVoice},
	"phone.ErrNonGeographic":        &signin.InputError{Err: phone.ErrNonGeographic},
	"providers.UserError":           &enrollment.SendError{Err: &providers.UserError{}},
	"providers.SIMSwapError":        &providers.SIMSwapError{},
	"providers.LookupError":         &providers.LookupError{Err: errors.New("timeout")},
}
