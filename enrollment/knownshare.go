package enrollment

import (
	"context"
	"strconv"

	"github.com/smsgate/caddy-smsgate/store"
)

// One known user's share of the known browsers' total.
//
// The known browsers' total (strangers-known) bounds what their passkey
// sign-ins begun at a login form make the store keep, whoever's cookie it
// is. Counted alone, any one user of the realm, sending her own
// known-browser cookie from many addresses (each address's tally is hers
// alone), spent it for every known browser of the realm until the next
// window (attack40 H3). Counted per user alone, one holder of many
// accounts (open enrollment) would have the store keep as many times the
// total. So both: a user's request counts in her share first, then, if
// her share took it, in the total; the total still bounds the store, and
// one user spends at most her share of it (a hundredth by default:
// KnownUserShare), so that it takes that many users to spend it.

// shareOf counts one of user's requests in her share of realm's known
// browsers' total (KnownUser, a counter per clock-aligned window in the
// store, shared by every instance), or refuses it with a *LimitError
// (known_user) saying how long until her next window. It is a round trip
// before the total's: a request it refuses counts in no total.
func (s *Strangers) shareOf(ctx context.Context, realm, user string) error {
	rate := s.KnownUser
	if rate.Count <= 0 || rate.Window <= 0 {
		return nil
	}
	now := s.Now()
	slot := now.UnixNano() / int64(rate.Window)
	var b store.Batch
	op := b.Incr(store.Key("strangers-known-user", realm, user, strconv.FormatInt(slot, 10)), rate.Window)
	if err := store.Do(ctx, s.Store, &b); err != nil {
		return err
	}
	if op.Err != nil || op.N <= int64(rate.Count) {
		return nil
	}
	return &LimitError{Limit: "known_user", Wait: untilNextWindow(now, rate.Window)}
}

// KnownUserShare is the part of the known browsers' total one user may
// take where the config sets none (limit known_user): a hundredth of the
// strangers' total, in its window, at least one.
const KnownUserShare = 100

// knownUserOf is the default share of the total: a KnownUserShare-th of
// it, rounded up.
func knownUserOf(total Rate) Rate {
	return Rate{Count: (total.Count + KnownUserShare - 1) / KnownUserShare, Window: total.Window}
}
