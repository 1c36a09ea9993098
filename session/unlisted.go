package session

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/endkeys"
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
	// AllTrusts: more trusts than MaxListed: every trust of the user
	// issued until Through ends (a trust made since stays).
	AllTrusts bool `json:"all_trusts,omitempty"`
	// Ended is the trusts EndUnlisted ends that the record does not name
	// (past MaxListed: those issued until Through), written in it before
	// they end (review37 F2: a retry of an end that failed after found
	// them gone, and left the invites minted in their sessions live); the
	// invites minted in their sessions end too (MintedOfUnlisted). None in
	// a record of the release before.
	Ended []string `json:"ended,omitempty"`
	// Ending marks an end begun (EndUnlisted): the record stays until the
	// invites minted through its sessions have ended, and an end asked
	// again reads it though the revocation until Through covers it.
	Ending bool `json:"ending,omitempty"`
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
	return unlisted(ctx, st, realm, user, now, false)
}

// unlisted is UnlistedSessions, and, ending, an end begun (Ending) that
// the revocation until its Through covers: EndUnlisted's retry.
func unlisted(ctx context.Context, st store.Store, realm, user string, now time.Time, ending bool) (Unlisted, error) {
	var b store.Batch
	op, all := b.Get(unlistedKey(realm, user)), b.Get(endkeys.User(realm, user))
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
	if err := json.Unmarshal(op.Value, &u); err != nil || !now.Before(u.Expires) || !u.Through.After(before) && !(ending && u.Ending) {
		return Unlisted{}, nil
	}
	return u, nil
}

// EndUnlisted ends the sessions user's index pushed out, with the trusted
// browsers they came from or made (first: as End does) and every session
// of those (endTrusts), by ending every session of the user signed until
// the newest of them (a revocation of the user's sessions up to then);
// it answers what it ended, a zero Unlisted when there was nothing to
// end. Of more trusts than it keeps (AllTrusts), it ends those whose
// token was issued until then, which that revocation ends anyway
// (Trusted): a browser the user trusted since keeps its trust.
func EndUnlisted(ctx context.Context, st store.Store, realm, user string, now time.Time) (Unlisted, error) {
	return EndUnlistedWith(ctx, st, realm, user, now, nil)
}

// EndUnlistedWith is EndUnlisted that runs endInvites (the end of the
// invites minted through the sessions it ended: MintedOfUnlisted) once
// those have ended, before it takes the record away (review37 F2): where
// a step fails, the record stays, its end begun and the trusts it ends
// written in it first (beginEnd), and an end asked again reads them and
// ends their invites. nil: none to end.
func EndUnlistedWith(ctx context.Context, st store.Store, realm, user string, now time.Time, endInvites func(Unlisted) error) (Unlisted, error) {
	u, err := unlisted(ctx, st, realm, user, now, true)
	if err != nil || u.Count == 0 {
		return u, err
	}
	if u, err = beginEnd(ctx, st, realm, user, u, now); err != nil {
		return Unlisted{}, err
	}
	u, trusts, err := endUnlistedTrusts(ctx, st, realm, user, u, now)
	if err != nil {
		return Unlisted{}, err
	}
	if err := revokeUserAt(store.Lasting(ctx), st, realm, user, u.Through); err != nil {
		return Unlisted{}, err
	}
	if err := announce(ctx, st, revocation{Realm: realm, User: user, At: u.Through.UnixNano()}); err != nil {
		return Unlisted{}, err
	}
	// The listed ones signed until then end (and leave the list), and so
	// do those of the trusts ended: an intruder's browser that pushed its
	// first session out signed in by the trust since (their browsers stop
	// being known too: endListed).
	list, err := unended(ctx, st, realm, user, now)
	if err != nil {
		return Unlisted{}, err
	}
	ends := func(s Info) bool { return !s.Issued.After(u.Through) || endsTrust(trusts, s) }
	if err := endListed(ctx, st, realm, user, list, now, ends); err != nil {
		return Unlisted{}, err
	}
	ended, err := tidyUnlisted(ctx, st, realm, user, u, trusts, now, endInvites)
	u.Ended = union(u.Ended, ended)
	return u, err
}

// beginEnd writes in user's Unlisted (the one u read: its Through) that
// its end has begun, with the trusts it ends that it does not name (past
// MaxListed: those issued until Through, read now), before any ends; it
// answers u so (review37 F2).
func beginEnd(ctx context.Context, st store.Store, realm, user string, u Unlisted, now time.Time) (Unlisted, error) {
	var more []string
	if u.AllTrusts {
		raw, err := st.Get(ctx, trustedKey(realm, user))
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return u, err
		}
		var list []TrustedBrowser
		if err == nil {
			if list, err = liveTrusts(raw, now); err != nil {
				return u, err
			}
		}
		for _, tb := range list {
			if !tb.issued().After(u.Through) {
				more = append(more, tb.ID)
			}
		}
	}
	u.Ending, u.Ended = true, union(u.Ended, more)
	return u, st.Update(ctx, unlistedKey(realm, user), func(raw []byte, found bool) ([]byte, time.Duration, error) {
		var cur Unlisted
		if !found || json.Unmarshal(raw, &cur) != nil || !cur.Through.Equal(u.Through) {
			return nil, 0, store.ErrUnchanged // moved on: a newer push-out's
		}
		if cur.Ending && len(union(slices.Clone(cur.Ended), more)) == len(cur.Ended) {
			return nil, 0, store.ErrUnchanged // begun, and none more to write
		}
		cur.Ending, cur.Ended = true, union(cur.Ended, more)
		out, err := json.Marshal(cur)
		return out, cur.Expires.Sub(now) + Leeway, err
	})
}

// union is a with those of b it lacks.
func union(a, b []string) []string {
	for _, id := range b {
		if !slices.Contains(a, id) {
			a = append(a, id)
		}
	}
	return a
}

// endUnlistedTrusts ends the trusts u names (endTrusts); when it names
// too many to keep, all those issued until u.Through, each written in its
// record first (beginEnd: u.Ended), so that a retry after a failure picks
// their invites (review37 F2): it ends those recorded, reads again and
// records and ends those that appeared meanwhile (a sign-in issued until
// Through whose trust was written late: rfix37's window, invites38). It
// answers u as recorded, and the trusts it ended.
func endUnlistedTrusts(ctx context.Context, st store.Store, realm, user string, u Unlisted, now time.Time) (Unlisted, []string, error) {
	if !u.AllTrusts {
		ended, err := endTrusts(ctx, st, realm, user, u.Trusts, nil, now)
		return u, ended, err
	}
	var ended []string
	for range 3 {
		var ids []string // those recorded not yet ended here
		for _, id := range union(slices.Clone(u.Trusts), u.Ended) {
			if !slices.Contains(ended, id) {
				ids = append(ids, id)
			}
		}
		got, err := endTrusts(ctx, st, realm, user, ids, nil, now)
		if err != nil {
			return u, ended, err
		}
		ended = union(ended, got)
		n := len(u.Ended)
		if u, err = beginEnd(ctx, st, realm, user, u, now); err != nil || len(u.Ended) == n {
			return u, ended, err // none appeared since the read before
		}
	}
	// Still appearing: ended unrecorded, as a revocation until Through
	// ends their tokens anyway (Trusted).
	got, err := endTrusts(ctx, st, realm, user, nil, func(tb TrustedBrowser) bool { return !tb.issued().After(u.Through) }, now)
	return u, union(ended, got), err
}

// tidyUnlisted takes user's Unlisted away once EndUnlisted has ended what
// it says (ended, its sessions are not counted again). One that a newer
// push-out moved on (a later Through) stays. One pushed out meanwhile in
// the same second has ended with the user's sessions until Through, but
// its trust, added to the record's since EndUnlisted read it, had not:
// it ends here (endTrusts) before the record goes (an Unlisted whose
// Through the revocation covers is never shown again: UnlistedSessions).
// ended is the trusts ended so far; it returns them, with those it ended.
// The record goes once endInvites has ended their invites (nil: none),
// after the last trust ended (review37 F2).
func tidyUnlisted(ctx context.Context, st store.Store, realm, user string, u Unlisted, ended []string, now time.Time, endInvites func(Unlisted) error) ([]string, error) {
	allEnded := u.AllTrusts
	invitesDone := endInvites == nil
	for range 2*MaxListed + 4 { // each turn but the last two ends a trust or their invites
		var more Unlisted
		err := st.Update(ctx, unlistedKey(realm, user), func(raw []byte, found bool) ([]byte, time.Duration, error) {
			more = Unlisted{}
			var cur Unlisted
			if !found || json.Unmarshal(raw, &cur) != nil || !cur.Through.Equal(u.Through) {
				return nil, 0, store.ErrUnchanged
			}
			more.AllTrusts = cur.AllTrusts && !allEnded
			for _, t := range cur.Trusts {
				if !slices.Contains(ended, t) {
					more.Trusts = append(more.Trusts, t)
				}
			}
			if more.AllTrusts || len(more.Trusts) > 0 || !invitesDone {
				return nil, 0, store.ErrUnchanged // ended first, then the record goes
			}
			return nil, 0, nil
		})
		if err != nil {
			return ended, err
		}
		if !more.AllTrusts && len(more.Trusts) == 0 {
			if invitesDone {
				return ended, nil
			}
			done := u
			done.Ended = union(slices.Clone(u.Ended), ended)
			if err := endInvites(done); err != nil {
				return ended, err
			}
			invitesDone = true
			continue
		}
		more.Through = u.Through
		more, err = beginEnd(ctx, st, realm, user, more, now)
		if err != nil {
			return ended, err
		}
		more, trusts, err := endUnlistedTrusts(ctx, st, realm, user, more, now)
		if err != nil {
			return ended, err
		}
		u.Ended = union(u.Ended, more.Ended)
		list, err := unended(ctx, st, realm, user, now)
		if err != nil {
			return ended, err
		}
		if err := endListed(ctx, st, realm, user, list, now, func(s Info) bool { return endsTrust(trusts, s) }); err != nil {
			return ended, err
		}
		ended, allEnded = append(ended, trusts...), allEnded || more.AllTrusts
		invitesDone = endInvites == nil // theirs too
	}
	return ended, nil
}
