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
// login) does not skip the wait for "send again".
type cooldown struct {
	Phone   string    `json:"phone"` // numberID: records never name a number
	Channel string    `json:"channel"`
	Until   time.Time `json:"until"`
}

// limitKey is who cooldowns and per-user limits count for.
func (c *Challenge) limitKey() string {
	if c.LimitKey != "" {
		return c.LimitKey
	}
	return c.User
}

func (s *Challenges) checkCooldown(ctx context.Context, sc Scope, c *Challenge) error {
	raw, err := s.Store.Get(ctx, sc.accountKey("cooldown", c.limitKey()))
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	var cd cooldown
	if err := json.Unmarshal(raw, &cd); err != nil {
		return nil // unreadable: the record only ever delays
	}
	// Another number (a typo corrected while enrolling) or another channel
	// ("call me instead") does not wait.
	if wait := cd.Until.Sub(s.Now()); cd.Phone == s.numberID(c.Phone) && cd.Channel == c.Channel && wait > 0 {
		return &CooldownError{Wait: wait}
	}
	return nil
}

func (s *Challenges) startCooldown(ctx context.Context, sc Scope, c *Challenge) error {
	raw, err := json.Marshal(cooldown{Phone: s.numberID(c.Phone), Channel: c.Channel, Until: c.ResendAt})
	if err != nil {
		return err
	}
	return s.Store.Put(ctx, sc.accountKey("cooldown", c.limitKey()), raw, c.ResendAt.Sub(s.Now())+time.Second)
}

// endCooldown forgets c's cooldown: the code it guarded was verified.
func (s *Challenges) endCooldown(ctx context.Context, sc Scope, c *Challenge) {
	_ = s.Store.Delete(ctx, sc.accountKey("cooldown", c.limitKey()))
}
