package enrollment

import (
	"context"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/pumping"
	"github.com/smsgate/caddy-smsgate/store"
)

// What the pumping guard and the admin's figures hear of codes: the hooks
// of Start and Check, kept here so that those read as before.

// The events Observe hears.
const (
	// CodeSent is a code the gateway accepted for a number.
	CodeSent = "sent"
	// CodeUsed is a right code typed in.
	CodeUsed = "used"
	// CodePaused is a send the pumping guard refused.
	CodePaused = "paused"
)

// observe tells Observe of event for e164 (never for a decoy).
func (s *Challenges) observe(event, e164 string, channel factor.Channel) {
	if s.Observe != nil && e164 != "" {
		s.Observe(event, e164, channel)
	}
}

// paused refuses c when the guard has paused its number's place: a
// *LimitError ("pumping") that says how long. After a login form (Blind)
// it is answered as a decoy's is: no code goes, and only the admin's log
// says why (Undelivered), so that a paused place does not tell a real
// name from a decoy.
func (s *Challenges) paused(sc Scope, c *Challenge, r *pumping.Refusal) error {
	if r == nil || c.Phone == "" {
		return nil
	}
	s.observe(CodePaused, c.Phone, c.Channel)
	err := &LimitError{Limit: "pumping", Wait: r.Wait, Adding: c.Purpose != Verify}
	if !sc.Blind {
		return err
	}
	c.Phone, c.Undelivered = "", err
	return nil
}

// judged is the guard's verdict once the send is counted: the pause this
// send started (or found), if it refuses the send.
func (s *Challenges) judged(ctx context.Context, c *Challenge, w *pumping.Watch) error {
	r, err := w.Judge(ctx)
	if err != nil || r == nil || c.Phone == "" {
		return err
	}
	s.observe(CodePaused, c.Phone, c.Channel)
	return &LimitError{Limit: "pumping", Wait: r.Wait, Adding: c.Purpose != Verify}
}

// uncount gives back the guard's count of a send answered blind (as a
// decoy's is: its records and limits stay) that sent nothing: the guard
// refused it, the number's check did, or the gateway sent nothing. The
// guard weighs the codes that went; a decoy counts on keys that keep
// nothing. With store time of its own, once, as a take-back's count is.
func (s *Challenges) uncount(ctx context.Context, w *pumping.Watch) {
	var b store.Batch
	w.GiveBack(&b)
	_ = store.Do(store.WithBudget(ctx, takeBackTime()), s.Store, &b)
}
