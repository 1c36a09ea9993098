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

// resendsAfter is how many codes came before the next one for the record
// read into op (0 for none, or one past its memory by the gate's clock,
// which a store's expiry need not follow): its streak and the code it
// records.
func (s *Challenges) resendsAfter(op *store.Op) int {
	var cd cooldown
	if op.Err != nil || json.Unmarshal(op.Value, &cd) != nil || !s.Now().Before(cd.Until.Add(cooldownMemory)) {
		return 0
	}
	return cd.Resends + 1
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

// cooledDown refuses a send while the cooldown read into op holds for c.
func (s *Challenges) cooledDown(op *store.Op, sc Scope, c *Challenge) error {
	if op.Err != nil {
		return nil // none
	}
	var cd cooldown
	if err := json.Unmarshal(op.Value, &cd); err != nil {
		return nil // unreadable: the record only ever delays
	}
	// Another number (a typo corrected while enrolling) does not wait;
	// another channel ("call me instead") does, as a resend would: a text
	// is given the time to arrive before a call (or a text again) is paid
	// for.
	// The gateway's word that the text did not arrive ends the wait for
	// another channel.
	if sc.Undelivered && cd.Channel != c.Channel {
		return nil
	}
	if wait := cd.Until.Sub(s.Now()); cd.Phone == s.numberID(c.Phone) && wait > 0 {
		return &CooldownError{Wait: wait}
	}
	return nil
}

// startCooldown adds c's cooldown to b.
func (s *Challenges) startCooldown(b *store.Batch, sc Scope, c *Challenge) error {
	raw, err := json.Marshal(cooldown{Phone: s.numberID(c.Phone), Channel: c.Channel, Until: c.ResendAt, Resends: c.Resends})
	if err != nil {
		return err
	}
	b.Put(s.cooldownKey(sc, c), raw, c.ResendAt.Sub(s.Now())+cooldownMemory)
	return nil
}

// restoreCooldown adds to b putting back the cooldown that before read
// (another number's wait, or a streak still remembered), or deleting c's.
func (s *Challenges) restoreCooldown(b *store.Batch, sc Scope, c *Challenge, before *store.Op) {
	var cd cooldown
	if before.Err == nil && json.Unmarshal(before.Value, &cd) == nil {
		if ttl := cd.Until.Add(cooldownMemory).Sub(s.Now()); ttl > 0 {
			b.Put(s.cooldownKey(sc, c), before.Value, ttl)
			return
		}
	}
	b.Delete(s.cooldownKey(sc, c))
}

// CooldownLeft is how long before a code like c (its user or limit key,
// number and channel) may be sent: 0 when it may be now. Pages count it
// down on the button rather than offer a send the server would refuse.
func (s *Challenges) CooldownLeft(ctx context.Context, sc Scope, c Challenge) time.Duration {
	raw, err := s.Store.Get(ctx, s.cooldownKey(sc, &c))
	var cd *CooldownError
	if errors.As(s.cooledDown(&store.Op{Value: raw, Err: err}, sc, &c), &cd) {
		return cd.Wait
	}
	return 0
}
