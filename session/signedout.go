package session

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/store"
)

// A session of an admin's that ended by its own end (a sign-out: Revoke;
// an admin's end whose invites failed), or by its lifetime, leaves her
// list of sessions, and
// the console invites minted through it stay open (logout39, lead: an
// honest sign-out must not end the invites she handed to a third person).
// They must stay reachable by that session all the same: a thief who
// minted one with a stolen cookie and signed out left a live link nobody
// could find but by a reset. Her index of them (endkeys.MintedInvites)
// names the session (MintedFrom), and the session's own revocation
// record (endkeys.Session) says it ended, until it would have expired;
// from then on, the session's expiry the entry carries (MintedFrom's
// Expires: over), as the invites outlive it (7 days by default, 30 at
// most). That expiry is the token's, whichever gate reads it: a gate of
// the realm with a longer lifetime lists a shorter one's signed-out
// session as the shorter one does, once its end record went with its
// expiry (expiry40, attack39c F1), and so does the CLI on a stopped
// Caddy, which knows no lifetime. An entry of a release before it names
// no expiry: the gate's session lifetime past its signing stands in
// (withinLifetime ends it there; none on a stopped Caddy). The two
// together are the signed-out session, listed (SignedOutMinted) and
// ended by its SID (SignedOutWith, signin's EndSession).

// SignedOut is a session that ended by its own end while console invites
// minted through it are still open: its SID, when it was signed, and how
// many invites (Open: its user's newest invite names it, and it enrolled
// nobody); Expired, that it ended by its lifetime, no end of its own read.
type SignedOut struct {
	SID     string    `json:"sid"`
	Issued  time.Time `json:"issued"`
	Open    int       `json:"invites_open"`
	Expired bool      `json:"expired,omitempty"`
}

// SignedOutMinted lists admin's sessions that ended by their own end, or
// signed lifetime ago or more (0: not known, by their end only), while
// invites minted through them are still open, the newest first: her
// index, then one batch of reads (each session's end and each invite's
// records). An index that cannot be read lists none (EndMintedOf mends it).
// A session still in her list of live ones (Sessions) is not listed.
func SignedOutMinted(ctx context.Context, st store.Store, realm, admin string, now time.Time, lifetime time.Duration) ([]SignedOut, error) {
	list, err := mintedIndex(ctx, st, realm, admin)
	if err != nil || len(list) == 0 {
		return nil, err
	}
	var b store.Batch
	ops := map[string]*store.Op{} // a key read once (a batch names each once)
	get := func(key string) *store.Op {
		if ops[key] == nil {
			ops[key] = b.Get(key)
		}
		return ops[key]
	}
	type entry struct {
		m                           endkeys.Minted
		ended, latest, spent, known *store.Op
	}
	var entries []entry
	for _, m := range list {
		if m.From == nil || m.From.SID == "" || !now.Before(m.Expires) {
			continue
		}
		e := entry{m: m, ended: get(endkeys.Session(realm, m.From.SID)), latest: get(endkeys.LatestInvite(realm, m.User)), known: get(endkeys.Invite(realm, m.ID))}
		if !m.Made.IsZero() {
			e.spent = get(endkeys.InviteSpent(realm, m.User, m.Made.UnixNano()))
		}
		entries = append(entries, e)
	}
	if err := store.Do(ctx, st, &b); err != nil {
		return nil, err
	}
	for _, op := range ops {
		if op.Err != nil && !errors.Is(op.Err, store.ErrNotFound) {
			return nil, op.Err
		}
	}
	var out []SignedOut
	for _, e := range entries {
		if e.ended.Err != nil && !over(e.m.From, now, lifetime) || !stillOpen(e.m, e.latest, e.spent, e.known) {
			continue // live (or expired), or the invite ended, used, replaced
		}
		i := slices.IndexFunc(out, func(s SignedOut) bool { return s.SID == e.m.From.SID })
		if i < 0 {
			out, i = append(out, SignedOut{SID: e.m.From.SID, Issued: e.m.From.Issued, Expired: e.ended.Err != nil}), len(out)
		}
		out[i].Open++
	}
	if len(out) > 0 {
		// A live session is not signed out, whatever its entry's Issued
		// says: a step-up moves the invites into the new session keeping
		// the old one's (MoveMinted), and one signed at a longer gate
		// outlasts this gate's lifetime (attack39c F2).
		live, err := Sessions(ctx, st, realm, admin, now)
		if err != nil {
			return nil, err
		}
		out = slices.DeleteFunc(out, func(s SignedOut) bool {
			return slices.ContainsFunc(live, func(l Info) bool { return l.SID == s.SID })
		})
	}
	slices.SortFunc(out, func(a, b SignedOut) int { return cmp.Or(b.Issued.Compare(a.Issued), cmp.Compare(a.SID, b.SID)) })
	return out, nil
}

// SignedOutWith reports whether sid is a session of admin's that ended by
// its own end, or by lifetime (0: not known; one still in her list of
// live ones is not over), and that an invite in her
// index names: the admin's end of
// it ends them (signin's EndSession, once EndWith found no such session).
// An invite ended or used since is in the index until that end: the end
// tells which.
func SignedOutWith(ctx context.Context, st store.Store, realm, admin, sid string, now time.Time, lifetime time.Duration) (bool, error) {
	list, err := mintedIndex(ctx, st, realm, admin)
	i := slices.IndexFunc(list, func(m endkeys.Minted) bool { return m.From != nil && m.From.SID == sid && now.Before(m.Expires) })
	if err != nil || i < 0 {
		return false, err
	}
	if over(list[i].From, now, lifetime) {
		live, err := Sessions(ctx, st, realm, admin, now)
		return err == nil && !slices.ContainsFunc(live, func(l Info) bool { return l.SID == sid }), err
	}
	_, err = st.Get(ctx, endkeys.Session(realm, sid))
	if errors.Is(err, store.ErrNotFound) {
		return false, nil // live (pushed off her list, or not listed), or expired
	}
	return err == nil, err
}

// over says whether the session from names is over: past its expiry,
// where the entry names it; else past lifetime (0: not known) since it
// was signed (an entry of a release before Expires).
func over(from *endkeys.MintedFrom, now time.Time, lifetime time.Duration) bool {
	if !from.Expires.IsZero() {
		return !now.Before(from.Expires)
	}
	return lifetime > 0 && !from.Issued.IsZero() && !now.Before(from.Issued.Add(lifetime))
}

// mintedIndex reads admin's index of the invites she minted; one that
// cannot be decoded is none (EndMintedOf's to mend).
func mintedIndex(ctx context.Context, st store.Store, realm, admin string) ([]endkeys.Minted, error) {
	raw, err := st.Get(ctx, endkeys.MintedInvites(realm, admin))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var list []endkeys.Minted
	if json.Unmarshal(raw, &list) != nil {
		return nil, nil
	}
	return list, nil
}

// stillOpen says, from the reads of its records, whether m is open: it
// enrolled nobody, and its user's newest invite names it, or names none
// while its own record stands (withdraw's rule).
func stillOpen(m endkeys.Minted, latest, spent, known *store.Op) bool {
	if spent != nil && spent.Err == nil {
		return false
	}
	if latest.Err == nil {
		var l struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(latest.Value, &l) != nil {
			return false
		}
		if l.ID != "" {
			return l.ID == m.ID
		}
	}
	return known.Err == nil
}
