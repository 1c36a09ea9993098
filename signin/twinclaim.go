package signin

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/store"
)

// twinGrace is how long a claim of a name (claimTwin) holds it for a user
// who holds no device: far longer than a completion takes from its claim
// to its device written, so that a claim is never taken from a completion
// under way; a claim older than this, whose user holds no device (her
// completion failed, or the admin reset or removed her since), is taken
// over by a twin, as the scan alone would let her enroll.
const twinGrace = 10 * time.Minute

// errTwinClaimed ends a claim of a name another user holds.
var errTwinClaimed = errors.New("a case twin's claim")

// twinClaim is a claim of a name in a realm (its key: twinKey's hash):
// whose it is, when it was made or last asserted, and a nonce, so that a
// claim asserted again is never the value another writer read (the store
// compares values).
type twinClaim struct {
	User  string    `json:"user"`
	At    time.Time `json:"at"`
	Nonce string    `json:"nonce"`
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
// scan, not before: a completion the scan refuses claims nothing, so a
// refused twin holds no name for twinGrace. A claim of hers is
// asserted again (a new time and nonce: a takeover that read the old one
// writes nothing); one of another user's is taken over only where it is
// older than twinGrace and its user holds no device (read inside the
// step: a claim asserted meanwhile is read again), else refused. An
// unreadable record is taken over (the scan still refuses a twin who
// holds a device). No expiry: it must outlive twinGrace, and holds a name
// and a time, no number. A failed write fails the completion (closed).
func (s *Service) claimTwin(ctx context.Context, realm, user, folded string) error {
	now := s.Now()
	mine, err := json.Marshal(twinClaim{User: user, At: now.UTC(), Nonce: enrollment.RandomID()})
	if err != nil {
		return err
	}
	return s.Devices.Store.Update(store.Lasting(ctx), twinClaimKey(realm, folded), func(old []byte, found bool) ([]byte, time.Duration, error) {
		var held twinClaim
		if !found || json.Unmarshal(old, &held) != nil || held.User == user {
			return mine, 0, nil
		}
		if now.Sub(held.At) < twinGrace {
			return nil, 0, errTwinClaimed
		}
		list, err := s.Devices.List(ctx, realm, held.User)
		if err != nil {
			return nil, 0, err
		}
		if len(list) > 0 {
			return nil, 0, errTwinClaimed
		}
		return mine, 0, nil
	})
}
