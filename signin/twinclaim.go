package signin

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"

	"golang.org/x/text/cases"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/internal/clock"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/words"
)

// twinGraceLength is how long a claim of a name (claimTwin) lives in the store,
// by the store's clock (its expiry: one clock for every gate on it). It
// need only cover a completion from its fresh scan to its device's write
// (that twin's scan, claim and write), which a request's store budget
// (store.RequestBudget, 3 s of store calls, no send in between) bounds
// far below it: once the device is written, the scan refuses the twin,
// so the claim need not outlive that. Short, so that a claim whose user
// holds no device (her completion failed after it, or the admin reset her
// just after) turns her twin away (ErrTwinClaimed) for as little as may be.
const twinGraceLength = 2 * time.Minute

// twinGrace is twinGraceLength as claims read it (clock.Shorten: a test's).
var twinGrace = clock.NewWait("twin-grace", twinGraceLength)

// ErrTwinClaimed refuses a user's own first enrollment where another
// user's claim of the same name (twinKey) is live: a twin whose first
// enrollment is being completed, or was a moment ago. It says to try
// again in a few minutes (the claim expires within TwinGrace), and no
// more about the other account than ErrCaseTwin does.
var ErrTwinClaimed = words.New("enroll.twin_claimed")

// errTwinClaimed ends a claim of a name another user holds.
var errTwinClaimed = errors.New("a case twin's claim")

// twinClaim is a claim of a name in a realm (its key: twinKey's hash):
// whose it is, and a nonce, so that a claim asserted again is never the
// value another writer read (the store compares values). No time: its
// expiry is the store's.
type twinClaim struct {
	User  string `json:"user"`
	Nonce string `json:"nonce"`
}

// twinClaimKey is the key of the claim of folded (twinKey) in realm:
// `twin/<realm>/<hex SHA-256 of folded>`, no name in it.
func twinClaimKey(realm, folded string) string {
	sum := sha256.Sum256([]byte(folded))
	return store.Key("twin", realm, hex.EncodeToString(sum[:]))
}

// claimTwin claims folded (user's twinKey) in realm for user, in one
// atomic step (Store.Update), once the fresh scan at her first
// enrollment's completion found no twin, before her device is written: of
// two twins completing at once, the second claim finds the first and is
// refused (errTwinClaimed), whichever of them reaches the scan or the
// device's write first (the claims, not the scans, decide). After the
// scan, not before: a completion the scan refuses claims nothing. An
// absent claim (none, or expired: twinGrace by the store's clock) or an
// unreadable one is free (the scan still refuses a twin who holds a
// device), and written; hers is asserted again (a new nonce and a fresh
// expiry); another user's refuses her, whatever its age: no gate's clock
// is read, so that a gate whose clock is ahead takes no live claim and a
// gate's clock behind holds no name longer. A failed write fails the
// completion (closed).
func (s *Service) claimTwin(ctx context.Context, realm, user, folded string) error {
	mine, err := json.Marshal(twinClaim{User: user, Nonce: enrollment.RandomID()})
	if err != nil {
		return err
	}
	grace := twinGrace.Get()
	return s.Devices.Store.Update(store.Lasting(ctx), twinClaimKey(realm, folded), func(old []byte, found bool) ([]byte, time.Duration, error) {
		if held, ok := readClaim(old, found); ok && held != user {
			return nil, 0, errTwinClaimed
		}
		return mine, grace, nil
	})
}

// ClaimName writes user's claim of her name in realm (twinKey's), whoever
// held it, for the admin's paths, which no claim refuses (the admin
// decides): the admin's add (AddByAdmin: the admin API, the console, the
// CLI) and an invite's enrollment (caseTwin), before their device is
// written. A twin's own first enrollment whose claim comes after it is
// refused (ErrTwinClaimed), and once the device is written, its scan
// refuses her (ErrCaseTwin). A twin's claim written before it is replaced
// and her enrollment goes on: both are enrolled, as where the admin adds
// a twin of a user enrolled before (SECURITY.md, case twins).
func ClaimName(ctx context.Context, st store.Store, realm, user string) error {
	mine, err := json.Marshal(twinClaim{User: user, Nonce: enrollment.RandomID()})
	if err != nil {
		return err
	}
	grace := twinGrace.Get()
	return st.Update(store.Lasting(ctx), twinClaimKey(realm, twinKey(cases.Fold(), user)), func([]byte, bool) ([]byte, time.Duration, error) {
		return mine, grace, nil
	})
}

// AddByAdmin is the admin's add of e164 to user's phones
// (Devices.AddBound), her name claimed first (ClaimName).
func AddByAdmin(ctx context.Context, d *enrollment.Devices, realm, user, e164, name string) (string, error) {
	if err := ClaimName(ctx, d.Store, realm, user); err != nil {
		return "", err
	}
	return d.AddBound(ctx, realm, user, e164, name)
}

// claimedByOther reads the claim of folded in realm where an enrollment
// begins (one Get): whether another user than user holds it, so that her
// twin is refused before a text is sent rather than after a code typed.
func (s *Service) claimedByOther(ctx context.Context, realm, user, folded string) (bool, error) {
	raw, err := s.Devices.Store.Get(ctx, twinClaimKey(realm, folded))
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	held, ok := readClaim(raw, true)
	return ok && held != user, nil
}

// readClaim is the user a claim's record names, ok false where there is
// none or it is unreadable (free).
func readClaim(raw []byte, found bool) (string, bool) {
	var held twinClaim
	if !found || json.Unmarshal(raw, &held) != nil || held.User == "" {
		return "", false
	}
	return held.User, true
}
