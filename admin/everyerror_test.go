package admin

import (
	"errors"
	"fmt"
	"iter"
	"maps"
	"net/http"
	"slices"
	"testing"

	"github.com/caddyserver/caddy/v2"

	"github.com/smsgate/caddy-smsgate/continuity"
	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/internal/harness"
	"github.com/smsgate/caddy-smsgate/phone"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/words"
)

// adminPackages are the packages the admin's paths (the admin API, the
// console's changes, the CLI on a stopped Caddy's store) call, whose
// errors may reach the admin.
var adminPackages = []string{"enrollment", "session", "phone", "continuity", "store", "figures", "pumping", "recent"}

// adminRows is every declared error an admin path answers with a row of
// refusals, as it reaches the admin, and the status the admin sees.
var adminRows = map[string]struct {
	err    error
	status int
}{
	"continuity.ErrNotFrozen":         {continuity.ErrNotFrozen, http.StatusConflict},
	"continuity.ErrChanged":           {continuity.ErrChanged, http.StatusConflict},
	"enrollment.ErrMaxDevices":        {enrollment.ErrMaxDevices, http.StatusBadRequest},
	"enrollment.ErrNoDevice":          {enrollment.ErrNoDevice, http.StatusNotFound},
	"enrollment.ErrInviteRaced":       {enrollment.ErrInviteRaced, http.StatusConflict},
	"enrollment.ErrTooManyMinted":     {enrollment.ErrTooManyMinted, http.StatusConflict},
	"enrollment.ErrInviteConfigPhone": {enrollment.ErrInviteConfigPhone, http.StatusConflict},
	"enrollment.ImportError":          {&enrollment.ImportError{Key: "k"}, http.StatusBadRequest},
	"enrollment.PartialImportError":   {&enrollment.PartialImportError{Written: 1, Of: 2, Err: errors.New("EOF")}, http.StatusServiceUnavailable},
	"phone.ErrMalformed":              {phone.WithExample(phone.ErrMalformed, "GB"), http.StatusBadRequest},
	"phone.ErrInvalid":                {phone.WithExample(phone.ErrInvalid, "GB"), http.StatusBadRequest},
	"phone.ErrType":                   {phone.WithExample(phone.ErrType, "GB"), http.StatusBadRequest},
}

// storeFaults are the store's failures: in no row, so a 503, their words
// in the log only.
var storeFaults = map[string]error{
	"enrollment.ErrInviteUnrecorded": fmt.Errorf("%w: %w", enrollment.ErrInviteUnrecorded, errors.New("EOF")),
	"store.ErrBudgetSpent":           store.ErrBudgetSpent,
	"store.ErrContended":             store.ErrContended,
	"store.ErrDiskFull":              store.ErrDiskFull,
	"store.ErrUnwritable":            store.ErrUnwritable,
}

// notAdmin are the declared errors that reach no admin as they are, and why.
var notAdmin = map[string]string{
	"enrollment.ErrNoChallenge":     "AddBound answers it as a HeldError: the number is another user's",
	"enrollment.HeldError":          "adminOp's users makes it the admin's 409, its owner's name escaped",
	"enrollment.ErrLastDevice":      "the admin's devices/remove removes a last device too (allowLast)",
	"enrollment.ErrEnrolled":        "a user's first enrollment (addFirst), not the admin's add",
	"enrollment.ErrEnded":           "a user's add from a session whose device left her list (signin.ErrEnded); the admin's add names no session",
	"enrollment.ErrNoSecrets":       "an app's enrollment without a sealer: a user's, the gate's config",
	"enrollment.ErrAppUnreadable":   "a user's app sign-in where no key opens her apps (signin's refusals: a dead device)",
	"enrollment.ErrPasskeysOff":     "a passkey's enrollment without an origin: a user's, the gate's config",
	"enrollment.CooldownError":      "a user's sign-in (signin's refusals)",
	"enrollment.ErrCodeUsed":        "a user's sign-in (signin's refusals)",
	"enrollment.ErrExpired":         "a user's sign-in (signin's refusals)",
	"enrollment.ErrInvite":          "a user's invite link (signin's refusals); the admin mints them",
	"enrollment.ErrInviteReplaced":  "a user's invite link a newer one replaced (signin's refusals); the admin mints them",
	"enrollment.ErrInviteEnded":     "a user's invite link a reset or a revoke ended (signin's refusals); the admin mints them",
	"enrollment.ErrInviteWithdrawn": "a user's invite link its admin's revocation ended (signin's refusals); the admin mints them",
	"enrollment.ErrNoAppSetup":      "a user's app enrollment (signin's refusals)",
	"enrollment.ErrNoPasskey":       "a user's sign-in (signin's refusals)",
	"enrollment.ErrPasskey":         "a user's sign-in (signin's refusals)",
	"enrollment.ErrRecoveryTries":   "a user's sign-in (signin's refusals)",
	"enrollment.ErrTooMany":         "a user's sign-in (signin's refusals)",
	"enrollment.ErrWrongRecovery":   "a user's sign-in (signin's refusals)",
	"enrollment.LimitError":         "a user's sign-in (signin's refusals)",
	"enrollment.LockedError":        "a user's sign-in (signin's refusals)",
	"enrollment.RefusedError":       "the phone policy at a user's enrollment (signin's refusals): the admin's add parses only",
	"enrollment.SendError":          "a code sent to a user (signin's refusals): the admin's tools send none",
	"enrollment.WrongCodeError":     "a user's sign-in (signin's refusals)",
	"enrollment.UnrecordedError":    "a user's right recovery code whose spend was not recorded: signin signs her in and logs it",
	"store.ErrGuardBroken":          "a console change whose admin's session ended between its check and its write: pages answers it as an ended session's (endedMeanwhile); the admin API and the CLI guard nothing",
	"phone.ErrNonGeographic":        "the phone policy at a user's enrollment: the admin's add parses only (phone.Parse)",
	"phone.ErrPrefix":               "the phone policy at a user's enrollment: the admin's add parses only (phone.Parse)",
	"phone.ErrRegion":               "the phone policy at a user's enrollment: the admin's add parses only (phone.Parse)",
	"phone.ErrTypeVoice":            "the phone policy at a user's call: the admin's add parses only (phone.Parse)",
	"phone.PolicyError":             "a mistake in the config's phone policy, at provision",
	"pumping.ErrNotPaused":          "ResumePumping makes it the admin's 404, naming the place",
	"session.ErrNoSession":          "adminOp's sessions/end makes it the admin's 404 (console.no_session)",
	"session.ErrInvalid":            "a request's token, read as no session",
	"session.ErrNotTrusted":         "a request's trust cookie, read as no trust",
	"session.ErrNumberNotGiven":     "a request's trust cookie of a number not given here, read as no trust (the cookie kept)",
	"session.ErrReleased":           "a request handed to the newest gate (caddymodule's handOff)",
	"session.ErrSealed":             "a request's sealed value, read as no cookie",
	"store.ErrNotFound":             "read by each caller as nothing there (answers, Owner, the lists)",
	"store.ErrNoTransaction":        "Import reads it as a store without transactions (PartialImportError)",
	"store.ErrUnchanged":            "an edit's own answer for no change, never returned",
}

// TestEveryAdminErrorHasARow reads the source of the packages the admin's
// paths call: every exported error is in a row of refusals (so a status,
// the same in the admin API and the console: pinned here), a store's
// failure (503), or named in notAdmin with why. Before, any error with
// words was the admin's mistake (400) and the rest a 503: an error
// nobody added to the table would now be a 503 "the store did not
// answer"; this test fails for it instead.
func TestEveryAdminErrorHasARow(t *testing.T) {
	t.Parallel()
	declared := harness.DeclaredErrors(t, adminPackages...)
	if len(declared) < 40 {
		t.Fatalf("%d errors declared: the source was not read", len(declared))
	}
	for _, name := range declared {
		_, row := adminRows[name]
		_, fault := storeFaults[name]
		_, not := notAdmin[name]
		if n := btoi(row) + btoi(fault) + btoi(not); n != 1 {
			t.Errorf("%s is named %d times: give it a row in admin's refusals and name it in adminRows, or name it in storeFaults or notAdmin with why", name, n)
		}
	}
	for _, names := range []iter.Seq[string]{maps.Keys(adminRows), maps.Keys(storeFaults), maps.Keys(notAdmin)} {
		for name := range names {
			if !slices.Contains(declared, name) {
				t.Errorf("%s is named, not declared", name)
			}
		}
	}
	for name, row := range adminRows {
		r := Refuse(row.err)
		if r.Reason == "error" || r.Status != row.status || r.Mistake != (row.status < 500) {
			t.Errorf("%s (%v): %+v; want a row, status %d", name, row.err, r, row.status)
		}
	}
	for name, err := range storeFaults {
		if r := Refuse(err); r.Reason != "error" || r.Status != http.StatusServiceUnavailable || r.Mistake {
			t.Errorf("%s (%v): %+v; want the store failing, 503", name, err, r)
		}
	}
}

// TestWordsAreNoMistake: an error with words that no row names (a store's
// or a provider's, wrapped) is the store failing, 503 without its words,
// in the admin API and the console alike (Mistake); the admin's own
// worded error keeps its status. Before, any error with words was a 400
// with them, the admin's mistake.
func TestWordsAreNoMistake(t *testing.T) {
	t.Parallel()
	worded := fmt.Errorf("redis: %w", words.Newf("gate.unavailable", "host", "10.0.0.7"))
	var ae caddy.APIError
	if err := apiError(worded); !errors.As(err, &ae) || ae.HTTPStatus != http.StatusServiceUnavailable || ae.Message != errStoreDown {
		t.Errorf("a worded error in no row: %#v; want 503, %q", err, errStoreDown)
	}
	if _, _, ok := mistake(worded); ok {
		t.Error("a worded error in no row is the admin's mistake")
	}
	own := &adminError{http.StatusNotFound, words.Newf("console.no_session", "user", "bob")}
	if status, _, ok := mistake(own); !ok || status != http.StatusNotFound {
		t.Errorf("the admin's own 404 with words: %d, %v", status, ok)
	}
}

// mistake is Refuse's answer for err where it is the admin's own mistake:
// its status and words.
func mistake(err error) (status int, msg string, ok bool) {
	if r := Refuse(err); r.Mistake {
		return r.Status, err.Error(), true
	}
	return 0, "", false
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
