package enrollment

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/store"
)

// cooldown is when a user may next be sent a code at a number. It is kept
// per user (a known browser's apart), not per sign-in, so that starting over (a new browser, a new
// login) does not skip the wait for "send again" — nor its doubling:
// Resends counts the codes sent before the last one without one used, in
// every sign-in, and is remembered for cooldownMemory after the wait ends.
// At a login form the doubling is the client IP's (cooldowns).
type cooldown struct {
	Phone   string         `json:"phone"` // numberID: records never name a number
	Channel factor.Channel `json:"channel"`
	Until   time.Time      `json:"until"`
	Resends int            `json:"resends,omitempty"`
}

// cooldownMemory is how long after a code's wait ends, with no new code
// sent, the doubling is remembered: a new login within it waits twice as
// long as the last code did, so re-posting the login as each wait ends
// gets a code at 30 s, 1 min, 2 min, 4 min… — not every 30 s. A code used
// ends it at once.
const cooldownMemory = time.Hour

// MaxResendWait is the longest a cooldown's doubling makes a user wait
// for a code: the default 30 s doubled ten times. It bounds what one code
// a stranger asked for under a user's name costs that user's unknown
// browsers (SECURITY.md), whatever resend_cooldown says.
const MaxResendWait = 30 * time.Second << 10

// A login form's cooldown is two records: the base wait after a code,
// shared by everyone who types the name (so that many clients still wait
// it between texts), and the doubling, kept per client IP (so that one
// client re-posting the login meets it, and a stranger's streak under a
// name does not hold the user's other browsers at the form). A user's
// own cooldown (a name the gate knows, a known browser) is one record
// holding both.
type cooldowns struct {
	shared *store.Op
	own    *store.Op // the client's streak; nil where shared holds it
}

// readCooldowns adds to b reading c's cooldown records.
func (s *Challenges) readCooldowns(b *store.Batch, sc Scope, c *Challenge) cooldowns {
	cd := cooldowns{shared: b.Get(s.cooldownKey(sc, c))}
	if k := streakKey(sc, c); k != "" {
		cd.own = b.Get(k)
	}
	return cd
}

// streakKey is the client's record of c's doubling at a login form (what
// was typed, from a browser not known), "" elsewhere.
func streakKey(sc Scope, c *Challenge) string {
	if c.LimitKey == "" || sc.Known {
		return ""
	}
	return sc.accountKey("cooldown", c.LimitKey, "ip", IPKey(sc.IP))
}

// doublingKey is the record of c's doubling: the client's at a login
// form, else the user's one record.
func (s *Challenges) doublingKey(sc Scope, c *Challenge) string {
	if k := streakKey(sc, c); k != "" {
		return k
	}
	return s.cooldownKey(sc, c)
}

// doubling is the record of the doubling read into cd (doublingKey's).
// The shared record of a login form holds none (one from before the
// split does: it is not followed, as a stranger's streak is not).
func (cd cooldowns) doubling() *store.Op {
	if cd.own != nil {
		return cd.own
	}
	return cd.shared
}

// resendsAfter is how many codes came before the next one for the
// record of a doubling read into op (0 for none, or one past its memory
// by the gate's clock, which a store's expiry need not follow): its
// streak and the code it records.
func (s *Challenges) resendsAfter(op *store.Op) int {
	var r cooldown
	if op.Err != nil || json.Unmarshal(op.Value, &r) != nil || !s.Now().Before(r.Until.Add(cooldownMemory)) {
		return 0
	}
	return r.Resends + 1
}

// limitKey is who cooldowns and per-user limits count for.
func (c *Challenge) limitKey() string {
	if c.LimitKey != "" {
		return c.LimitKey
	}
	return c.User
}

func (s *Challenges) cooldownKey(sc Scope, c *Challenge) string {
	return sc.accountKey("cooldown", c.limitKey())
}

// cooledDown refuses a send while a cooldown read into cd holds for c:
// the longer of the two waits.
func (s *Challenges) cooledDown(cd cooldowns, sc Scope, c *Challenge) error {
	wait := s.waitIn(cd.shared, sc, c, cd.own != nil)
	if cd.own != nil {
		wait = max(wait, s.waitIn(cd.own, sc, c, false))
	}
	if wait > 0 {
		return &CooldownError{Wait: wait}
	}
	return nil
}

// waitIn is how long the cooldown record read into op holds c: 0 for none.
// A base record (a login form's shared one) holds the base wait after its
// code: one from before the split, which counted a streak, is read so.
func (s *Challenges) waitIn(op *store.Op, sc Scope, c *Challenge, base bool) time.Duration {
	if op.Err != nil {
		return 0 // none
	}
	var cd cooldown
	if err := json.Unmarshal(op.Value, &cd); err != nil {
		return 0 // unreadable: the record only ever delays
	}
	// Another number (a typo corrected while enrolling) does not wait;
	// another channel ("call me instead") does, as a resend would: a text
	// is given the time to arrive before a call (or a text again) is paid
	// for.
	// The gateway's word that the text did not arrive ends the wait for
	// another channel.
	if sc.Undelivered && cd.Channel != c.Channel {
		return 0
	}
	if base && cd.Resends > 0 {
		cd.Until = cd.Until.Add(s.ResendCooldown - s.waitAfter(cd.Resends))
	}
	if wait := cd.Until.Sub(s.Now()); cd.Phone == s.numberID(c.Phone) && wait > 0 {
		return wait
	}
	return 0
}

// waitAfter is the wait after a code that resends codes came before:
// the base doubled as many times, to MaxResendWait.
func (s *Challenges) waitAfter(resends int) time.Duration {
	return min(s.ResendCooldown<<min(resends, 10), max(s.ResendCooldown, MaxResendWait))
}

// errRaced says that a send found a record of its cooldown or its
// number's waits changed by another send since it read it (its claim
// lost: startCooldown, noteNumberWait): it was undone (lostRace), to be
// decided again.
var errRaced = errors.New("enrollment: another send changed the cooldown meanwhile")

// maxRaces is how many times start decides a send again after a race
// before it gives up (store.ErrContended): one client's sends at once
// race each other once, and the second is then refused by the first's
// wait.
const maxRaces = 3

// start is startOnce, tried again while it lost the records of its
// cooldown or its number's waits to another send at once (errRaced): decided again
// on the records as they are now, where the other's wait, mostly,
// refuses it.
func (s *Challenges) start(ctx context.Context, sc Scope, c *Challenge, resends int) (*Challenge, error) {
	// Store time of their own: the send that follows keeps its request's.
	s.retryTakeBacks(store.WithBudget(ctx, takeBackTime()))
	var got *Challenge
	err := store.Retry(ctx, maxRaces, func() (bool, error) { // backing off: sends at once race again less
		again := *c
		var err error
		if got, err = s.startOnce(ctx, sc, &again, resends); errors.Is(err, errRaced) {
			got, sc.Stranger = nil, false // counted in the strangers' total once, by the first try
			return false, nil
		}
		return true, err
	})
	return got, err
}

// startCooldown is c's cooldown, to claim (store.Batch.Claim, with the
// number's waits: startOnce) against what before read: its wait and
// doubling in the record of its doubling (doublingKey), and at a login
// form the base wait that the code shares with everyone who types the
// name. A claim lost is a race lost: another send (one client posting
// the login twice at once) wrote one of the records since it was read,
// and this send, having written none, is decided again on what they hold
// now (start): where the doubling was a Put, both sends passed the wait
// and the doubling of one was lost — a text more than the schedule
// allows.
func (s *Challenges) startCooldown(sc Scope, c *Challenge, before cooldowns) ([]wait, error) {
	var base *store.Op
	if streakKey(sc, c) != "" {
		base = before.shared
	}
	return s.writeWaits(c, s.doublingKey(sc, c), before.doubling(), s.cooldownKey(sc, c), base)
}

// wait is a record of a wait that a send claims: what it read there and
// writes (store.Swap), and whether it is a login form's base record
// (keep), for a send taken back (takeBack).
type wait struct {
	store.Swap
	base bool
}

// swapsOf are the swaps of waits, to claim.
func swapsOf(waits []wait) []store.Swap {
	swaps := make([]store.Swap, len(waits))
	for i, w := range waits {
		swaps[i] = w.Swap
	}
	return swaps
}

// writeWaits is c's wait and doubling at key, to be swapped in if it
// still holds what read found there, and with base read (not nil) the
// base wait after c shared at baseKey (none with no resend_cooldown).
func (s *Challenges) writeWaits(c *Challenge, key string, read *store.Op, baseKey string, base *store.Op) ([]wait, error) {
	cd := cooldown{Phone: s.numberID(c.Phone), Channel: c.Channel, Until: c.ResendAt, Resends: c.Resends}
	raw, err := json.Marshal(cd)
	if err != nil {
		return nil, err
	}
	waits := []wait{{Swap: store.Swap{Key: key, Read: read, Value: raw, TTL: s.keep(cd, false)}}}
	if base == nil || s.ResendCooldown <= 0 {
		return waits, nil
	}
	cd.Until, cd.Resends = s.Now().Add(s.ResendCooldown), 0
	if raw, err = json.Marshal(cd); err != nil {
		return nil, err
	}
	return append(waits, wait{Swap: store.Swap{Key: baseKey, Read: base, Value: raw, TTL: s.keep(cd, true)}, base: true}), nil
}

// keep is how long a cooldown record cd is kept: to the end of its wait,
// and, but for a login form's base record (which holds no doubling), the
// doubling's memory after it. Written and put back (putBack) alike.
func (s *Challenges) keep(cd cooldown, base bool) time.Duration {
	ttl := cd.Until.Sub(s.Now())
	if !base {
		ttl += cooldownMemory
	}
	return ttl
}

// endCooldown adds to b forgetting c's cooldown: a code was used.
func (s *Challenges) endCooldown(b *store.Batch, sc Scope, c *Challenge) {
	b.Delete(s.cooldownKey(sc, c)) // done: another browser need not wait
	if k := streakKey(sc, c); k != "" {
		b.Delete(k)
	}
}

// CooldownLeft is how long before a code like c (its user or limit key,
// number and channel) may be sent: 0 when it may be now. Pages count it
// down on the button rather than offer a send the server would refuse.
func (s *Challenges) CooldownLeft(ctx context.Context, sc Scope, c Challenge) time.Duration {
	var b store.Batch
	read := s.readCooldowns(&b, sc, &c)
	if store.Do(ctx, s.Store, &b) != nil {
		return 0
	}
	var cd *CooldownError
	if errors.As(s.cooledDown(read, sc, &c), &cd) {
		return cd.Wait
	}
	return 0
}
