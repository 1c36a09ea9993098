package signin_test

import (
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/internal/harness"
	"github.com/smsgate/caddy-smsgate/phone"
	"github.com/smsgate/caddy-smsgate/providers"
	"github.com/smsgate/caddy-smsgate/signin"
)

// errorPackages are the packages whose errors reach the pages.
var errorPackages = []string{"signin", "enrollment", "session", "phone", "providers"}

// refusalsByName is every declared error that refuses a user, as it
// reaches the pages (a phone's parse error wrapped as signin wraps it):
// each must have a row in signin's refusals.
var refusalsByName = map[string]error{
	"enrollment.ErrNoChallenge":   enrollment.ErrNoChallenge,
	"enrollment.ErrExpired":       enrollment.ErrExpired,
	"enrollment.ErrTooMany":       enrollment.ErrTooMany,
	"enrollment.ErrEnrolled":      enrollment.ErrEnrolled,
	"enrollment.ErrNoAppSetup":    enrollment.ErrNoAppSetup,
	"enrollment.ErrCodeUsed":      enrollment.ErrCodeUsed,
	"enrollment.ErrPasskey":       enrollment.ErrPasskey,
	"enrollment.ErrNoPasskey":     enrollment.ErrNoPasskey,
	"enrollment.ErrWrongRecovery": enrollment.ErrWrongRecovery,
	"enrollment.ErrRecoveryTries": enrollment.ErrRecoveryTries,
	"enrollment.ErrInvite":        enrollment.ErrInvite,
	"enrollment.ErrLastDevice":    enrollment.ErrLastDevice,
	"enrollment.ErrNoDevice":      enrollment.ErrNoDevice,
	"enrollment.ErrMaxDevices":    enrollment.ErrMaxDevices,
	"enrollment.WrongCodeError":   &enrollment.WrongCodeError{},
	"enrollment.CooldownError":    &enrollment.CooldownError{},
	"enrollment.LimitError":       &enrollment.LimitError{Limit: "ip"},
	"enrollment.LockedError":      &enrollment.LockedError{},
	"enrollment.RefusedError":     &enrollment.RefusedError{Err: phone.ErrRegion},
	"enrollment.SendError":        &enrollment.SendError{Err: errors.New("twilio: 500")},
	"signin.ErrName":              signin.ErrName,
	"signin.ErrNoCalls":           signin.ErrNoCalls,
	"signin.ErrNoTexts":           signin.ErrNoTexts,
	"signin.ErrOtherInvite":       signin.ErrOtherInvite,
	"signin.ErrInviteNotHere":     signin.ErrInviteNotHere,
	"signin.ErrRecoveryNotHere":   signin.ErrRecoveryNotHere,
	"signin.CodeFormatError":      &signin.CodeFormatError{Length: 6},
	"signin.AskPhoneError":        &signin.AskPhoneError{Err: phone.ErrMalformed},
	"signin.InputError":           &signin.InputError{Err: phone.ErrMalformed},
	"phone.ErrMalformed":          &signin.InputError{Err: phone.ErrMalformed},
	"phone.ErrInvalid":            &signin.InputError{Err: phone.ErrInvalid},
	"phone.ErrType":               &enrollment.RefusedError{Err: phone.ErrType},
	"phone.ErrRegion":             &enrollment.RefusedError{Err: phone.ErrRegion},
	"phone.ErrPrefix":             &enrollment.RefusedError{Err: phone.ErrPrefix},
	"phone.ErrTypeVoice":          &enrollment.RefusedError{Err: phone.ErrTypeVoice},
	"phone.ErrNonGeographic":      &signin.InputError{Err: phone.ErrNonGeographic},
	"providers.UserError":         &enrollment.SendError{Err: &providers.UserError{}},
	"providers.SIMSwapError":      &providers.SIMSwapError{},
	"providers.LookupError":       &providers.LookupError{Err: errors.New("timeout")},
}

// notRefusals are the declared errors that are no refusal of a user, and
// why: a page answers them otherwise, or they are the admin's, or a fault
// (503) is what they are.
var notRefusals = map[string]string{
	"signin.Refusal":                "the table's own answer, not a cause",
	"signin.StepError":              "sends the user on to another step (pages.goTo), no refusal",
	"signin.ErrEnded":               "the session ended during the change: the pages send the user to sign in again",
	"enrollment.ErrNoSecrets":       "a gate without a sealer for app secrets: the admin's config, a fault",
	"enrollment.ErrPasskeysOff":     "passkeys without an origin: the admin's config, a fault",
	"enrollment.ImportError":        "the admin API's import (admin's refusals: admin.Refuse), never a user's",
	"enrollment.PartialImportError": "the admin API's import (admin's refusals: admin.Refuse), never a user's",
	"enrollment.HeldError":          "the admin's add of a phone another user holds (admin), never a user's",
	"enrollment.UnrecordedError":    "a right recovery code, spent, whose record the store failed: signin signs the user in and logs it (useRecovery)",
	"session.ErrReleased":           "the request is handed to the newest gate (caddymodule's handOff)",
	"session.ErrNoSession":          "the admin's end of a session not listed (admin: 404)",
	"session.ErrSealed":             "a sealed value not sealed here: read as no cookie",
	"session.ErrInvalid":            "a token refused: read as no session",
	"session.ErrNotTrusted":         "a trust cookie no longer good: read as no trust",
	"phone.PolicyError":             "a mistake in the config's phone policy: the admin's, at provision",
	"providers.ErrNotSent":          "a mark on a provider's error (inside a SendError), not an error of its own",
	"providers.ErrNoVerification":   "the provider has no pending code: enrollment answers ErrExpired",
}

// TestEveryErrorHasARow reads the source of the packages whose errors
// reach the pages: every exported error (a var Err…, a type with an Error
// method) is either a refusal, which then has a row in signin's
// refusals (so a class, so a status: pages' TestEveryReasonHasAStatus), or
// named here as no refusal, with why. An error nobody added to the table
// would be a Fault, 503 "unavailable": this test fails for it instead.
func TestEveryErrorHasARow(t *testing.T) {
	t.Parallel()
	declared := harness.DeclaredErrors(t, errorPackages...)
	if len(declared) < 40 {
		t.Fatalf("%d errors declared: the source was not read", len(declared))
	}
	for _, name := range declared {
		_, refusal := refusalsByName[name]
		_, not := notRefusals[name]
		switch {
		case refusal && not:
			t.Errorf("%s is both a refusal and none", name)
		case !refusal && !not:
			t.Errorf("%s is a new error: give it a row in signin's refusals and name it in refusalsByName, or name it in notRefusals with why", name)
		}
	}
	for name := range refusalsByName {
		if !slices.Contains(declared, name) {
			t.Errorf("refusalsByName names %s, which is not declared", name)
		}
	}
	for name := range notRefusals {
		if !slices.Contains(declared, name) {
			t.Errorf("notRefusals names %s, which is not declared", name)
		}
	}
	for name, err := range refusalsByName {
		if i := strings.LastIndexByte(name, '.'); !strings.HasPrefix(name[i+1:], "Err") && !holds(err, name) {
			t.Errorf("refusalsByName's example of %s is no %s", name, name)
		}
		if r := signin.Refuse(err); r.Class == signin.Fault || r.Reason == "error" {
			t.Errorf("%s (%v) has no row in signin's refusals: it would be a fault, 503", name, err)
		}
	}
}

// holds says whether err's chain has an error of the type name names.
func holds(err error, name string) bool {
	for ; err != nil; err = errors.Unwrap(err) {
		ty := reflect.TypeOf(err)
		if ty.Kind() == reflect.Pointer {
			ty = ty.Elem()
		}
		if filepath.Base(ty.PkgPath())+"."+ty.Name() == name {
			return true
		}
	}
	return false
}
