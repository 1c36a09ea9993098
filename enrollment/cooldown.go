package enrollment

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
)

// cooldown is when a user may next be sent a code at a number. It is kept
// per user (a known browser's apart), not per sign-in, so that starting over (a new browser, a new
// login) does not skip the wait for "send again" — nor its doubling:
// Resends counts the codes sent before the last one without one used, in
// every sign-in, and is remembered for cooldownMemory after the wait ends.
// At a login form the doubling is the client IP's (cooldowns).
type cooldown struct {
	Phone   string    `json:"phone"` // numberID: records never name a number
	Channel string    `json:"channel"`
	Until   time.Time `json:"until"`
	Resends int       `json:"resends,omitempty"`
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
	return store.Key("cooldown", sc.Realm, c.LimitKey, "ip", IPKey(sc.IP))
}

// resendsAfter is how many codes came before the next one for the
// records read into cd (0 for none, or one past its memory by the gate's
// clock, which a store's expiry need not follow): its streak and the code
// it records. The shared record of a login form holds none (one from
// before the split does: it is not followed, as a stranger's streak is
// not).
func (s *Challenges) resendsAfter(cd cooldowns) int {
	op := cd.shared
	if cd.own != nil {
		op = cd.own
	}
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

// startCooldown adds c's cooldown to b.
func (s *Challenges) startCooldown(b *store.Batch, sc Scope, c *Challenge) error {
	cd := cooldown{Phone: s.numberID(c.Phone), Channel: c.Channel, Until: c.ResendAt, Resends: c.Resends}
	if k := streakKey(sc, c); k != "" {
		if err := putCooldown(b, k, cd, c.ResendAt.Sub(s.Now())+cooldownMemory); err != nil {
			return err
		}
		if s.ResendCooldown <= 0 {
			return nil // no base wait to share
		}
		cd.Until, cd.Resends = s.Now().Add(s.ResendCooldown), 0
		return putCooldown(b, s.cooldownKey(sc, c), cd, s.ResendCooldown)
	}
	return putCooldown(b, s.cooldownKey(sc, c), cd, c.ResendAt.Sub(s.Now())+cooldownMemory)
}

func putCooldown(b *store.Batch, key string, cd cooldown, ttl time.Duration) error {
	raw, err := json.Marshal(cd)
	if err != nil {
		return err
	}
	b.Put(key, raw, ttl)
	return nil
}

// restoreCooldown adds to b putting back the cooldowns that before read
// (another number's wait, or a streak still remembered), or deleting c's.
func (s *Challenges) restoreCooldown(b *store.Batch, sc Scope, c *Challenge, before cooldowns) {
	s.restore(b, s.cooldownKey(sc, c), before.shared)
	if before.own != nil {
		s.restore(b, streakKey(sc, c), before.own)
	}
}

func (s *Challenges) restore(b *store.Batch, key string, before *store.Op) {
	var cd cooldown
	if before.Err == nil && json.Unmarshal(before.Value, &cd) == nil {
		if ttl := cd.Until.Add(cooldownMemory).Sub(s.Now()); ttl > 0 {
			b.Put(key, before.Value, ttl)
			return
		}
	}
	b.Delete(key)
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
