package signin_test

import (
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/harness"
	"github.com/smsgate/caddy-smsgate/signin"
	"github.com/smsgate/caddy-smsgate/signin/signintest"
)

// errorPackages are the packages whose errors reach the pages.
var errorPackages = []string{"signin", "enrollment", "session", "phone", "providers"}

// notRefusals are the declared errors that are no refusal of a user, and
// why: a page answers them otherwise, or they are the admin's, or a fault
// (503) is what they are.
var notRefusals = map[string]string{
	"signin.Refusal":                  "the table's own answer, not a cause",
	"signin.StepError":                "sends the user on to another step (pages.goTo), no refusal",
	"signin.ErrEnded":                 "the session ended during the change: the pages send the user to sign in again",
	"enrollment.ErrEnded":             "signin.ErrEnded; also a device added from a session whose device left her list (a phone's code: ErrNoChallenge)",
	"enrollment.ErrNoSecrets":         "a gate without a sealer for app secrets: the admin's config, a fault",
	"enrollment.ErrPasskeysOff":       "passkeys without an origin: the admin's config, a fault",
	"enrollment.ImportError":          "the admin API's import (admin's refusals: admin.Refuse), never a user's",
	"enrollment.PartialImportError":   "the admin API's import (admin's refusals: admin.Refuse), never a user's",
	"enrollment.HeldError":            "the admin's add of a phone another user holds (admin), never a user's",
	"enrollment.ErrInviteUnrecorded":  "an invite the store failed to record as the user's newest: the admin's mint (admin: 503), never a user's",
	"enrollment.ErrInviteRaced":       "an invite another mint for the user replaced at the same instant: the admin's mint (admin: 409), never a user's",
	"enrollment.ErrTooManyMinted":     "an admin holding too many invites open: the admin's mint (admin: 409), never a user's",
	"enrollment.ErrInviteConfigPhone": "an invite for a user the config gives a phone: the admin's mint (admin: 409), never a user's",
	"enrollment.UnrecordedError":      "a right recovery code, spent, whose record the store failed: signin signs the user in and logs it (useRecovery)",
	"session.ErrReleased":             "the request is handed to the newest gate (caddymodule's handOff)",
	"session.ErrNoSession":            "the admin's end of a session not listed (admin: 404)",
	"session.ErrSealed":               "a sealed value not sealed here: read as no cookie",
	"session.ErrInvalid":              "a token refused: read as no session",
	"session.ErrNotTrusted":           "a trust cookie no longer good: read as no trust",
	"session.ErrNumberNotGiven":       "a trust cookie of a number not given here: read as no trust, the cookie kept",
	"phone.PolicyError":               "a mistake in the config's phone policy: the admin's, at provision",
	"providers.ErrNotSent":            "a mark on a provider's error (inside a SendError), not an error of its own",
	"providers.ErrNoVerification":     "the provider has no pending code: enrollment answers ErrExpired",
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
		_, refusal := signintest.Refusals[name]
		_, not := notRefusals[name]
		switch {
		case refusal && not:
			t.Errorf("%s is both a refusal and none", name)
		case !refusal && !not:
			t.Errorf("%s is a new error: give it a row in signin's refusals and an example in signintest.Refusals, or name it in notRefusals with why", name)
		}
	}
	for name := range signintest.Refusals {
		if !slices.Contains(declared, name) {
			t.Errorf("signintest.Refusals names %s, which is not declared", name)
		}
	}
	for name := range notRefusals {
		if !slices.Contains(declared, name) {
			t.Errorf("notRefusals names %s, which is not declared", name)
		}
	}
	for name, err := range signintest.Refusals {
		if i := strings.LastIndexByte(name, '.'); !strings.HasPrefix(name[i+1:], "Err") && !holds(err, name) {
			t.Errorf("signintest.Refusals's example of %s is no %s", name, name)
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

// TestEveryRowAnswersARefusal: each row of signin's refusals has a class
// of its own (none, or Fault, would make it a fault: 503 "unavailable"),
// and is the answer (its reason and class) to one of signintest.Refusals,
// whose classes pages gives each its HTTP status
// (TestEveryReasonHasAStatus): so every row's class has one.
func TestEveryRowAnswersARefusal(t *testing.T) {
	t.Parallel()
	rows := signin.RefusalRows()
	if len(rows) < 15 {
		t.Fatalf("signin has %d rows of refusals: the table was not read", len(rows))
	}
	answers := map[signin.RefusalRow]bool{}
	for _, err := range signintest.Refusals {
		r := signin.Refuse(err)
		answers[signin.RefusalRow{Reason: r.Reason, Class: r.Class}] = true
	}
	for _, row := range rows {
		if row.Class == signin.Fault || row.Class == signin.Class(0) {
			t.Errorf("signin's reason %q has class %d: no class of its own", row.Reason, row.Class)
		}
		if !answers[row] {
			t.Errorf("signin's row %q (class %d) answers none of signintest.Refusals: give it an example there", row.Reason, row.Class)
		}
	}
}
