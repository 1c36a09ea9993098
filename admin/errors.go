package admin

import (
	"errors"
	"net/http"

	"github.com/smsgate/caddy-smsgate/continuity"
	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/internal/errmatch"
	"github.com/smsgate/caddy-smsgate/phone"
)

// A Refusal is an admin request's failure, read once (Refuse): the one
// place where an error on the admin's paths gets its HTTP status, for the
// admin API and the console alike. A Mistake is the admin's to fix (an
// unknown device, a bad number, a malformed body): its words are the
// admin's to read. Anything else is the store failing: 503, its cause in
// Caddy's log only, never its words (a driver's, a provider's).
type Refusal struct {
	Reason  string // the row's name, or "error" for none
	Status  int
	Mistake bool
	Err     error
}

// Refuse reads err: the first row of refusals that matches gives its
// status; an error in no row is the store failing (503).
func Refuse(err error) Refusal {
	for _, row := range refusals {
		if row.is(err) {
			r := Refusal{Reason: row.name, Status: row.status, Err: err}
			if ae := (*adminError)(nil); r.Status == 0 && errors.As(err, &ae) {
				r.Status = ae.status
			}
			r.Mistake = r.Status < http.StatusInternalServerError
			return r
		}
	}
	return Refusal{Reason: "error", Status: http.StatusServiceUnavailable, Err: err}
}

// refusals are the errors the admin's paths return other than the store's,
// with their status (0: the error's own). Which error says what is not
// decided by its having words: a store's or a provider's error that
// carried some would be the admin's mistake. TestEveryAdminErrorHasARow
// fails for an error of the packages the admin's paths call that is in no
// row, nor named there as none of the admin's.
var refusals = []struct {
	name   string
	status int
	is     func(error) bool
}{
	// The admin's own, made with its status where it is found (a
	// missing user, an unknown realm, an invite no gate takes, a device
	// another user holds, a session not listed, a place not paused).
	{"admin", 0, errmatch.As[*adminError]},
	{"too_large", http.StatusRequestEntityTooLarge, errmatch.As[*http.MaxBytesError]},
	{"import_unreadable", http.StatusBadRequest, errmatch.As[*enrollment.ImportError]},
	// The store failed part way through an import: said with how far it got.
	{"import_partial", http.StatusServiceUnavailable, errmatch.As[*enrollment.PartialImportError]},
	// The number an admin adds (phone.WithExample keeps the sentinel).
	{"number_malformed", http.StatusBadRequest, errmatch.Is(phone.ErrMalformed)},
	{"number_invalid", http.StatusBadRequest, errmatch.Is(phone.ErrInvalid)},
	{"number_type", http.StatusBadRequest, errmatch.Is(phone.ErrType)},
	// A user's devices.
	{"devices_full", http.StatusBadRequest, errmatch.Is(enrollment.ErrMaxDevices)},
	{"no_device", http.StatusNotFound, errmatch.Is(enrollment.ErrNoDevice)}, // as a session, a realm or a pause not there
	// store/accept on a store that is not frozen, or changed meanwhile.
	{"not_frozen", http.StatusConflict, errmatch.Is(continuity.ErrNotFrozen)},
	{"store_changed", http.StatusConflict, errmatch.Is(continuity.ErrChanged)},
	// An invite another mint for the user replaced at the same instant: no
	// link handed out, the other's works.
	{"invite_raced", http.StatusConflict, errmatch.Is(enrollment.ErrInviteRaced)},
	// An admin holding too many invites open (the index of hers is
	// bounded), or revoked while she minted one: no link handed out.
	{"invites_too_many", http.StatusConflict, errmatch.Is(enrollment.ErrTooManyMinted)},
	// An invite for a user the config gives a phone (signin.RefuseInvite):
	// she enrolls nothing. No link handed out.
	{"invite_config_phone", http.StatusConflict, errmatch.Is(enrollment.ErrInviteConfigPhone)},
	{"invite_minter_ended", http.StatusForbidden, errmatch.Is(ErrMintEnded)},
}
