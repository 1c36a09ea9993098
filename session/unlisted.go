package session

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
)

// Unlisted is what a user's index says of the live sessions it pushed out
// (MaxListed, newest kept): how many, and through when they were signed,
// so that the admin sees that they exist and can end them all
// (EndUnlisted). Without it, someone with a trusted browser could sign in
// MaxListed times to push their first session off the admin's list, and
// only a revoke of every session ended it. It stays bounded whatever the
// sign-ins (a count, two times, and the trusts they came from, at most
// MaxListed; past that every trust issued before ends with them), where
// keeping every live session in the index would grow with each sign-in of
// a trusted browser for as long as its sessions live (rewritten whole at
// each: quadratic).
type Unlisted struct {
	// Count is how many sessions were pushed out: some may have ended or
	// expired since (at most Count are live).
	Count int `json:"count"`
	// Through is when the newest of them was signed: ending them ends
	// every session of the user signed until then (in whole seconds: a
	// listed one signed in that same second too).
	Through time.Time `json:"through"`
	Expires time.Time `json:"expires"`
	Trusts  []string  `json:"trusts,omitempty"`
	// AllTrusts: more trusts than MaxListed: every trust of the user ends.
	AllTrusts bool `json:"all_trusts,omitempty"`
}

func unlistedKey(realm, user string) string { return store.Key("sessions-unlisted", realm, user) }

// noteUnlisted adds the sessions the index pushed out to user's Unlisted.
func noteUnlisted(ctx context.Context, st store.Store, realm, user string, now time.Time, out []Info) error {
	return st.Update(ctx, unlistedKey(realm, user), func(raw []byte, found bool) ([]byte, time.Duration, error) {
		var u Unlisted
		if found && (json.Unmarshal(raw, &u) != nil || !now.Before(u.Expires)) {
			u = Unlisted{}
		}
		for _, s := range out {
			u.Count++
			if s.Issued.After(u.Through) {
				u.Through = s.Issued
			}
			if s.Expires.After(u.Expires) {
				u.Expires = s.Expires
			}
			if t := s.Where.Trust; t != "" && !slices.Contains(u.Trusts, t) {
				u.Trusts = append(u.Trusts, t)
			}
		}
		if len(u.Trusts) > MaxListed {
			u.Trusts, u.AllTrusts = nil, true
		}
		raw, err := json.Marshal(u)
		return raw, u.Expires.Sub(now) + Leeway, err
	})
}

// UnlistedSessions is what user's index pushed out and may still be live:
// a zero Unlisted when none (expired, or ended by a revocation of all the
// user's sessions since).
func UnlistedSessions(ctx context.Context, st store.Store, realm, user string, now time.Time) (Unlisted, error) {
	var b store.Batch
	op, all := b.Get(unlistedKey(realm, user)), b.Get(userRevokedKey(realm, user))
	if err := store.Do(ctx, st, &b); err != nil {
		return Unlisted{}, err
	}
	if errors.Is(op.Err, store.ErrNotFound) {
		return Unlisted{}, nil
	}
	if op.Err != nil {
		return Unlisted{}, op.Err
	}
	before, err := revokedBefore(all)
	if err != nil {
		return Unlisted{}, err
	}
	var u Unlisted
	if err := json.Unmarshal(op.Value, &u); err != nil || !now.Before(u.Expires) || !u.Through.After(before) {
		return Unlisted{}, nil
	}
	return u, nil
}

// EndUnlisted ends the sessions user's index pushed out, with the trusted
// browsers they came from or made (first: as End does), by ending every
// session of the user signed until the newest of them (a revocation of
// the user's sessions up to then); it answers what it ended, a zero
// Unlisted when there was nothing to end.
func EndUnlisted(ctx context.Context, st store.Store, realm, user string, now time.Time) (Unlisted, error) {
	u, err := UnlistedSessions(ctx, st, realm, user, now)
	if err != nil || u.Count == 0 {
		return u, err
	}
	if u.AllTrusts {
		err = UntrustAll(ctx, st, realm, user)
	}
	for _, t := range u.Trusts {
		if err == nil {
			err = untrust(store.Lasting(ctx), st, realm, user, t, now)
		}
	}
	if err != nil {
		return Unlisted{}, err
	}
	if err := revokeUserAt(store.Lasting(ctx), st, realm, user, u.Through); err != nil {
		return Unlisted{}, err
	}
	if err := announce(ctx, st, revocation{Realm: realm, User: user, At: u.Through.UnixNano()}); err != nil {
		return Unlisted{}, err
	}
	// The listed sessions of those trusts end too: an intruder's browser
	// that pushed its first session out signed in by the trust since.
	list, err := Sessions(ctx, st, realm, user, now)
	if err != nil {
		return Unlisted{}, err
	}
	ends := func(s Info) bool {
		return !s.Issued.After(u.Through) || s.Where.Trust != "" && (u.AllTrusts || slices.Contains(u.Trusts, s.Where.Trust))
	}
	if err := endListed(ctx, st, realm, user, list, now, ends); err != nil {
		return Unlisted{}, err
	}
	// Tidying: ended, they are not counted again (nor any pushed out since).
	_ = st.Update(ctx, unlistedKey(realm, user), func(raw []byte, found bool) ([]byte, time.Duration, error) {
		var now Unlisted
		if !found || json.Unmarshal(raw, &now) != nil || !now.Through.Equal(u.Through) {
			return nil, 0, store.ErrUnchanged
		}
		return nil, 0, nil
	})
	return u, nil
}
