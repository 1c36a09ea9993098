package session

import (
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/audit"
	"github.com/smsgate/caddy-smsgate/internal/logonce"
	"github.com/smsgate/caddy-smsgate/store"
)

// A revocation of all of a user's sessions moves its record on to the
// newest session pushed off her list, at most Leeway past its own clock
// (revokeAll): one signed further ahead was signed by an instance whose
// clock is that far ahead, which a gate on time refuses anyway, but whose
// own sessions go on where its clock is. That says a clock is wrong: the
// revoke warns, once a minute per store and realm (capTold), with the gap
// in seconds and the user, never a session's ID or token.

// capToldEvery is how often a capped revoke is told per store and realm:
// the next line counts those not written ("repeats").
const capToldEvery = time.Minute

// capTold is the throttle of every gate of the process, per store
// (store.Which) and realm: keyed by the realm alone, two gates of one
// realm name on two stores shared it, and one's warnings hid the other's
// (TestCappedRevokesOfTwoStoresAreToldApart).
var capTold = logonce.Throttle{Every: capToldEvery}

// CappedMessage is the warning of a revoke whose record was capped, its
// gap Leeway's own (TestTheCappedMessageNamesLeeway).
var CappedMessage = fmt.Sprintf("a revoke's record was capped at %d s past this instance's clock: a session of the user pushed off her list was signed later, by the clock of an instance that far ahead; check the clocks (NTP) of the instances and of the admin's workstation", int64(Leeway/time.Second))

// tellCapped warns through logger (none: nil) that user's revocation in
// realm on st, made at now, was capped at Leeway past now though a session
// pushed off her list was signed at through, by its instance's clock; a
// gap within Leeway is none. At most one line per store and realm in
// capToldEvery.
func tellCapped(logger *zap.Logger, st store.Store, realm, user string, through, now time.Time) {
	gap := through.Sub(now)
	if gap <= Leeway || logger == nil {
		return
	}
	n, tell := capTold.Tell(store.Which(st)+"\x00"+realm, now)
	if !tell {
		return
	}
	fields := []zap.Field{zap.String("event", "revoke_capped"), zap.String("realm", realm), audit.User(user),
		zap.Int64("gap_seconds", int64(gap/time.Second))}
	logger.Warn(CappedMessage, logonce.Repeats(fields, n)...)
}
