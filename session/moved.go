package session

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
)

// A move (an export and an import into another store) carries each user's
// index of sessions (sessions/) and what it pushed out (Unlisted:
// sessions-unlisted/), so that the admin lists and ends after the move
// the sessions signed before it (movesess41: with the signing keys, those
// sessions still admit, and were neither listed nor ended by their SID).
// Each is merged into what the store holds, never put in its place: the
// index is a hint (index.go), whose entries the ends the import carries
// leave out as before the move, so an entry the store dropped since the
// export was taken (a restore) lists nothing ended.

// IndexKind and UnlistedKind are the kinds (their keys' first part) of a
// user's index of sessions and of what it pushed out.
const (
	IndexKind    = "sessions"
	UnlistedKind = "sessions-unlisted"
)

// maxImportedLife bounds the expiry of a session an import carries: no
// gate signs one for longer (LongestLifetime).
const maxImportedLife = LongestLifetime + Leeway

// IndexRecordProblem says why value is no index a gate writes (a list of
// sessions, each with its SID and an expiry no later than a gate gives
// one from now): "" for one it reads.
func IndexRecordProblem(value []byte, now time.Time) string {
	var list []Info
	if json.Unmarshal(value, &list) != nil {
		return "a user's sessions are a list"
	}
	for _, s := range list {
		switch {
		case !isID(s.SID):
			return "a session's ID is letters and digits"
		case s.Expires.IsZero() || s.Expires.After(now.Add(maxImportedLife)):
			return "a session ends within the longest session lifetime"
		case s.Where.Trust != "" && !isID(s.Where.Trust):
			return "a trust's ID is letters and digits"
		}
	}
	return ""
}

// UnlistedRecordProblem says why value is no Unlisted a gate writes: ""
// for one it reads.
func UnlistedRecordProblem(value []byte, now time.Time) string {
	var u Unlisted
	if json.Unmarshal(value, &u) != nil {
		return "what a user's sessions pushed out is an object"
	}
	switch {
	case u.Count < 0:
		return "a count is not negative"
	case u.Expires.IsZero() || u.Expires.After(now.Add(maxImportedLife)):
		return "a session ends within the longest session lifetime"
	case len(u.Trusts) > MaxListed || slices.ContainsFunc(u.Trusts, func(id string) bool { return !isID(id) }):
		return "trusts are at most 20 IDs of letters and digits"
	case len(u.Ended) > MaxTrusted*MaxListed || slices.ContainsFunc(u.Ended, func(id string) bool { return !isID(id) }):
		return "trusts are IDs of letters and digits"
	}
	return ""
}

// isID reports whether id could be a session's or a trust's ID (rand.Text,
// whole or cut): short, letters and digits only.
func isID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range []byte(id) {
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// ImportIndex merges user's index of sessions an import carries (value,
// read by IndexRecordProblem) into the store's: the sessions the store's
// does not list are added, the expired left out, in the order they were
// signed; past MaxListed, the oldest are counted in the user's Unlisted
// before they leave it, as a sign-in's (note). Run again, it adds nothing.
func ImportIndex(ctx context.Context, st store.Store, realm, user string, value []byte, now time.Time) error {
	filed, err := liveSessions(value, now)
	if err != nil || len(filed) == 0 {
		return err
	}
	var out []Info
	err = editIndex(ctx, st, realm, user, now, func(list []Info) []Info {
		for _, s := range filed {
			if !slices.ContainsFunc(list, func(o Info) bool { return o.SID == s.SID }) {
				s.Where = s.Where.bounded()
				list = append(list, s)
			}
		}
		slices.SortStableFunc(list, func(a, b Info) int { return a.BeganAt().Compare(b.BeganAt()) })
		list = list[max(0, len(list)-maxKept):]
		out = slices.Clone(list[:max(0, len(list)-MaxListed)])
		return list
	})
	if err != nil || len(out) == 0 {
		return err
	}
	if err := noteUnlisted(ctx, st, realm, user, now, out); err != nil {
		return err
	}
	dropSessions(ctx, st, realm, user, now, func(s Info) bool {
		return slices.ContainsFunc(out, func(o Info) bool { return o.SID == s.SID })
	})
	return nil
}

// ImportUnlisted merges user's Unlisted an import carries (value, read by
// UnlistedRecordProblem) into the store's: the counts add up (Count is an
// upper bound), the later Through and Expires, the trusts of both (past
// MaxListed: AllTrusts). One the store holds that covers the file's
// already (an import run again) is left as it is.
func ImportUnlisted(ctx context.Context, st store.Store, realm, user string, value []byte, now time.Time) error {
	var f Unlisted
	if err := json.Unmarshal(value, &f); err != nil || !now.Before(f.Expires) {
		return err
	}
	return st.Update(ctx, unlistedKey(realm, user), func(raw []byte, found bool) ([]byte, time.Duration, error) {
		var u Unlisted
		if found && (json.Unmarshal(raw, &u) != nil || !now.Before(u.Expires)) {
			u = Unlisted{}
		}
		if covers(u, f) {
			return nil, 0, store.ErrUnchanged
		}
		u.Count += f.Count
		u.Through = later(u.Through, f.Through)
		u.Expires = later(u.Expires, f.Expires)
		u.AllTrusts = u.AllTrusts || f.AllTrusts
		u.Ending = u.Ending || f.Ending
		for _, t := range f.Trusts {
			if !slices.Contains(u.Trusts, t) {
				u.Trusts = append(u.Trusts, t)
			}
		}
		if len(u.Trusts) > MaxListed || u.AllTrusts {
			u.Trusts, u.AllTrusts = nil, true
		}
		for _, t := range f.Ended {
			if !slices.Contains(u.Ended, t) {
				u.Ended = append(u.Ended, t)
			}
		}
		raw, err := json.Marshal(u)
		return raw, u.Expires.Sub(now) + Leeway, err
	})
}

// covers reports whether u says all that f does.
func covers(u, f Unlisted) bool {
	trusts := u.AllTrusts || !f.AllTrusts && !slices.ContainsFunc(f.Trusts, func(t string) bool { return !slices.Contains(u.Trusts, t) })
	return u.Count >= f.Count && !u.Through.Before(f.Through) && !u.Expires.Before(f.Expires) && trusts &&
		(u.Ending || !f.Ending) && !slices.ContainsFunc(f.Ended, func(t string) bool { return !slices.Contains(u.Ended, t) })
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
