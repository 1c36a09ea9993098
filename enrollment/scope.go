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
// it is full, until its oldest entry leaves it (probeShared): it never
// grows after the upgrade.
func (sc Scope) sharedKnownWindow(kind string) string {
	if !sc.Known {
		return ""
	}
	return store.Key("limit", kind, IPKey(sc.IP)+"/known")
}

// probeShared adds to b asking whether the previous release's shared
// window of kind (sharedKnownWindow) is full: a slide of a probe (nil for
// a stranger's scope), refused, with the wait until the window's oldest
// entry leaves it, while the window holds rate.Count entries. Once b is
// done, the probe must be taken out again (probe.out: a batch names a key
// once), so that no entry stays.
func (sc Scope) probeShared(b *store.Batch, kind string, rate Rate, now time.Time) *probe {
	key := sc.sharedKnownWindow(kind)
	if key == "" || rate.Count <= 0 || rate.Window <= 0 {
		return nil
	}
	p := &probe{key: key, id: RandomID()}
	p.op = b.Slide(key, p.id, rate.Count, rate.Window, now)
	return p
}

// probe is a slide into a window of the previous release (probeShared).
type probe struct {
	key, id string
	op      *store.Op
}

// full reports whether the window refused the probe (nil: no probe).
func (p *probe) full() bool { return p != nil && p.op.Err == nil && !p.op.OK }

// wait is how long until a full window has room (0: not full, or none).
func (p *probe) wait() time.Duration {
	if !p.full() {
		return 0
	}
	return p.op.Wait
}

// out takes the probe out of the window again (nothing where it was
// refused, or none was taken): one round trip, a known browser's alone.
func (p *probe) out(ctx context.Context, st store.Store) {
	if p != nil && p.op.OK {
		_ = st.Unslide(context.WithoutCancel(ctx), p.key, p.id)
	}
}
