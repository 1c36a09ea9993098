package enrollment

import (
	"context"
	"time"

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

// ipWindow is the key of the client address's window of kind (its sends,
// Limits.IP: "ip"; its recovery code tries: "recovery") for user: a known
// browser's apart from strangers' at the same address (a shared NAT, a
// carrier's CGNAT), whose names typed at a login form (decoys, which text
// no one), sends and wrong recovery codes would otherwise use them up for
// the owner; and apart for each realm and user (attack40 H2: one window
// for every known browser at the address let another user there, of this
// realm or another on the store, spend hers with her own account).
func (sc Scope) ipWindow(kind, user string) string {
	if sc.Known {
		return store.Key("limit", kind, IPKey(sc.IP), "known", sc.Realm, user)
	}
	return store.Key("limit", kind, IPKey(sc.IP))
}

// sharedKnownWindow is the key of the window the previous release kept for
// every known browser at the address, of every realm and user ("" for a
// stranger's, whose key is as it was). Such a window still refuses while
// it is full, until its oldest entry leaves it (probeShared, a read): it
// never grows after the upgrade.
func (sc Scope) sharedKnownWindow(kind string) string {
	if !sc.Known {
		return ""
	}
	return store.Key("limit", kind, IPKey(sc.IP)+"/known")
}

// probeShared adds to b a read of the previous release's shared window of
// kind (sharedKnownWindow): a count that records nothing (nil for a
// stranger's scope), full while the window holds rate.Count entries or
// more, refused then with the wait until its oldest entry leaves it. It
// is in the request's own batch, so it costs no round trip and leaves
// nothing behind: a request at once from another known browser at the
// address, an instance of the previous release, or a process that dies
// there, sees the window as it was (review40 R1: a probe slid in and
// taken out in a second round trip held a slot between the two).
func (sc Scope) probeShared(b *store.Batch, kind string, rate Rate, now time.Time) *probe {
	key := sc.sharedKnownWindow(kind)
	if key == "" || rate.Count <= 0 || rate.Window <= 0 {
		return nil
	}
	return &probe{op: b.Window(key, rate.Window, now), limit: rate.Count}
}

// probe is a read of a window of the previous release (probeShared).
type probe struct {
	op    *store.Op
	limit int
}

// full reports whether the window was full (nil: no probe). A read that
// failed counts none: the known user's own window still bounds the
// request, as the previous release's window no longer does.
func (p *probe) full() bool { return p != nil && p.op.Err == nil && p.op.N >= int64(p.limit) }

// wait is how long until a full window's oldest entry leaves it (0: not
// full, or none).
func (p *probe) wait() time.Duration {
	if !p.full() {
		return 0
	}
	return p.op.Wait
}
