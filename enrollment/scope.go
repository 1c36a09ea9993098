package enrollment

import (
	"context"

	"github.com/smsgate/caddy-smsgate/store"
)

// Scope is where a request comes from: the realm it is for, the host it
// came to (for messages), and the client's IP (for limits).
type Scope struct {
	Realm, Host, IP string
	// Lang is the language of the page the request came from.
	Lang string
	// Known says the request comes from a browser that signed in as this
	// user before (a signed cookie): it has send budgets and an account
	// lockout of its own, so that strangers who name the user cannot
	// keep the user's own browser out.
	Known bool
	// Blind says the client must not learn whether a code really went
	// out (a login form, where an unknown name gets a decoy, which cannot
	// fail): a send that fails for a reason only a real number can have —
	// the number policy, the line-type or SIM check, the gateway — is
	// answered as a decoy's is, with the same records, limits and answer;
	// why is in Challenge.Undelivered, for the admin's log.
	Blind bool
	// Stranger says a challenge is started for someone the gate does not
	// know yet (a login form's name): it counts in Strangers' total.
	Stranger bool
	// Undelivered says the gateway reported that the pending code's
	// message did not arrive (a delivery receipt): a code on another
	// channel need not wait for the cooldown.
	Undelivered bool
	// Provisioned says the checking gate's config gives a sign-in
	// challenge's phone to its user (a provisioned user: no device record),
	// asked at the check: Check looks for no device then, and otherwise
	// refuses a code whose phone is no longer the user's.
	Provisioned bool
	// First, where set, is asked just before a first enrollment's device
	// is written (Check, an Enroll challenge): an error refuses it, the
	// code used up (signin's rule on a name that differs only in case from
	// an enrolled user's).
	First func(context.Context) error
}

// spender is whose send windows (per user, calls) a send for limitKey
// spends: its own in the realm, a known browser's apart. Its parts are
// joined by store.Key, which escapes them: a name typed at a login form
// ("alice/known") does not reach another's windows. (For names without
// '/' or '%', the key is the one joined as text before.)
func (sc Scope) spender(limitKey string) string {
	if sc.Known {
		return store.Key(sc.Realm, limitKey, "known")
	}
	return store.Key(sc.Realm, limitKey)
}

// ipWindow is the key of the client address's windows (its sends,
// Limits.IP, and its recovery code tries): a known browser's apart from
// strangers' at the same address (a shared NAT, a carrier's CGNAT), whose
// names typed at a login form (decoys, which text no one), sends and wrong
// recovery codes would otherwise use them up for the owner.
func (sc Scope) ipWindow() string {
	if sc.Known {
		return IPKey(sc.IP) + "/known"
	}
	return IPKey(sc.IP)
}
