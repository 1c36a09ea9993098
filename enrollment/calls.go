package enrollment

import (
	"context"
	"errors"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/store"
)

// Whether a call may still go, so that pages do not offer "call me
// instead" only to refuse it: a record, kept like the voice limit's
// window (per user, a known browser's apart), says until when calls are
// spent. It is written when the voice limit refuses a call, and when a
// call uses the last one of a window that allows one.

// callsKey names the record of when user's calls are spent until.
func callsKey(sc Scope, limitKey string) string {
	return store.Key("calls-spent", sc.spender(limitKey))
}

// NoteCall records, after c was called (err nil) or refused (err), when
// calls are spent, if they are.
func (s *Challenges) NoteCall(ctx context.Context, sc Scope, c *Challenge, err error) {
	rate := s.Limits.Voice
	if c == nil || c.Channel != factor.ChannelVoice || rate.Count <= 0 || rate.Window <= 0 {
		return
	}
	var wait time.Duration
	var limit *LimitError
	switch {
	case errors.As(err, &limit) && limit.Limit == "voice":
		wait = limit.Wait
	case err == nil && rate.Count == 1:
		wait = rate.Window
	default:
		return
	}
	until, _ := s.Now().Add(wait).MarshalText()
	_ = s.Store.Put(ctx, callsKey(sc, c.limitKey()), until, wait+time.Second) // a hint only: lost, the limit still holds
}

// CallWait is how long before a call may go to limitKey's user (a user,
// or what a login form typed): 0 when one may now.
func (s *Challenges) CallWait(ctx context.Context, sc Scope, limitKey string) time.Duration {
	raw, err := s.Store.Get(ctx, callsKey(sc, limitKey))
	var until time.Time
	if err != nil || until.UnmarshalText(raw) != nil {
		return 0
	}
	return max(0, until.Sub(s.Now()))
}
