package session

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/store"
)

// The session index: for each user, the sessions signed for them, so that
// an admin can see them and end one (the console, the admin API, the CLI).
// A token holds all that checking it needs: the index is written when a
// session is signed, and read by the admin's tools only, never by Check.
//
// It is a hint, not the truth: the truth is the revocation records. A
// listing leaves out what they ended (so a drop that failed shows nothing
// wrong), and a session the index lacks — signed by an older release, or
// while the store failed, or pushed out by newer ones — works as before
// and is still ended by RevokeUser.

// MaxListed bounds one user's index: it keeps the newest sessions. An
// older one past it is not ended, only no longer listed: it is counted in
// the user's Unlisted, which the admin sees and can end (EndUnlisted), as
// RevokeUser ends it with the rest.
const MaxListed = 20

// ErrNoSession is an end asked for a session the user's index does not
// list (ended already, expired, never theirs, or signed by an older
// release: RevokeUser ends those).
var ErrNoSession = errors.New("session: no such session of this user")

// Where says, for an admin, where a session was signed: the site's host
// and the browser's kind and system, by name ("Firefox", "Linux"). Never
// an address, never the whole User-Agent.
type Where struct {
	Host    string `json:"host,omitempty"`
	Browser string `json:"browser,omitempty"`
	System  string `json:"system,omitempty"`
	// Trust is the ID of the trusted browser the session came from, or
	// that its sign-in made: ending the session ends the trust too, or
	// the browser would sign in again with it at once. It is a lookup key,
	// not a credential (the devices page and the audit log show it too):
	// the trust cookie is a token signed with a key of the gate's secret,
	// which the ID alone does not make (TestTrust).
	Trust string `json:"trust,omitempty"`
	// Device is the device that earned the session (Claims.Device): its
	// removal ends the session. nil for one of a release before it.
	Device *string `json:"device,omitempty"`
}

// maxWhere bounds each of Where's names (a Host header is the client's).
const maxWhere = 64

func (w Where) bounded() Where {
	cut := func(s string) string {
		if len(s) <= maxWhere {
			return s
		}
		for i := maxWhere; i > 0; i-- { // between characters, never inside one
			if s[i]&0xC0 != 0x80 {
				return s[:i]
			}
		}
		return ""
	}
	return Where{Host: cut(w.Host), Browser: cut(w.Browser), System: cut(w.System), Trust: cut(w.Trust), Device: w.Device}
}

// Info is a session as the index lists it.
type Info struct {
	SID    string    `json:"sid"`
	Issued time.Time `json:"issued"`
	// Began is when the sign-in that made it began, to the nanosecond
	// (Issued, its token's iat, is whole seconds): an end of the session
	// it replaced is told before or after it (signin's endedBeforeTheMove,
	// review40 R2). Zero in an entry the previous release wrote (or an
	// instance of it rewrote): BeganAt is Issued then.
	Began   time.Time `json:"began,omitzero"`
	Expires time.Time `json:"expires"`
	// AMR is how the user proved it (["sms"], ["otp"], …); Trusted, that a
	// trusted browser got it without a code (its AMR is the trust's).
	AMR     []factor.AMR `json:"amr,omitempty"`
	Trusted bool         `json:"trusted,omitempty"`
	Where   Where        `json:"where"`
}

// BeganAt is when the sign-in that made s began: Began, or where the
// entry has none (the previous release's), Issued (whole seconds).
func (s Info) BeganAt() time.Time {
	if s.Began.IsZero() {
		return s.Issued
	}
	return s.Began
}

func sessionsKey(realm, user string) string { return store.Key("sessions", realm, user) }

// note adds the session cl to its user's index. The sign-in does not wait
// on it to stand: the caller logs a failure and goes on. It is not a
// lasting write (a power cut may lose the newest entry: unlisted, the
// session is still ended by RevokeUser), so a sign-in pays no sync for it.
//
// What the new entry pushes out (past MaxListed, the oldest) leaves the
// index only once counted (noteUnlisted), in a second change of it: a
// count that fails leaves them listed (the next sign-in counts them
// again), never a session neither listed nor counted. Counted and then
// still listed (the second change failed, or two sign-ins at once counted
// the same) is counted twice: Unlisted.Count is an upper bound. A sign-in
// that pushes none out costs one change, as before.
func (m *Manager) note(ctx context.Context, cl *Claims, began time.Time, where Where) error {
	info := Info{SID: cl.SID, Issued: cl.IssuedAt.UTC(), Began: began.UTC(), Expires: cl.ExpiresAt.UTC(), AMR: cl.AMR, Trusted: cl.Trusted, Where: where.bounded()}
	now := m.now()
	var out []Info // past MaxListed: counted before they leave
	err := editIndex(ctx, m.store, m.realm, cl.Subject, now, func(list []Info) []Info {
		list = append(list, info)
		// Bounded whatever the failures: past maxKept, the oldest go
		// uncounted (the record is rewritten whole at each sign-in).
		list = list[max(0, len(list)-maxKept):]
		out = slices.Clone(list[:max(0, len(list)-MaxListed)])
		return list
	})
	if err != nil || len(out) == 0 {
		return err
	}
	if err := noteUnlisted(ctx, m.store, m.realm, cl.Subject, now, out); err != nil {
		return err
	}
	dropSessions(ctx, m.store, m.realm, cl.Subject, now, func(s Info) bool {
		return slices.ContainsFunc(out, func(o Info) bool { return o.SID == s.SID })
	})
	return nil
}

// maxKept bounds the index while counting what it pushes out fails.
const maxKept = 2 * MaxListed

// Sessions lists user's sessions in realm that the index knows and nothing
// has ended, the newest first. It reads only the store, so the admin's
// tools use it with Caddy stopped too.
func Sessions(ctx context.Context, st store.Store, realm, user string, now time.Time) ([]Info, error) {
	return listed(ctx, st, realm, user, now, true)
}

// unended lists, as Sessions does, user's sessions that neither their own
// revocation nor their user's has ended, but with those of an ended trust:
// what End and EndUnlisted end (endListed) once they have ended the trust,
// so that each such session's browser gets its end mark and stops being
// known (StillKnown reads that mark, and the trust's record for a cookie
// that names its trust).
func unended(ctx context.Context, st store.Store, realm, user string, now time.Time) ([]Info, error) {
	return listed(ctx, st, realm, user, now, false)
}

// listed is Sessions, leaving out those of an ended trust when byTrust.
func listed(ctx context.Context, st store.Store, realm, user string, now time.Time, byTrust bool) ([]Info, error) {
	var b store.Batch
	index, all := b.Get(sessionsKey(realm, user)), b.Get(endkeys.User(realm, user))
	if err := store.Do(ctx, st, &b); err != nil {
		return nil, err
	}
	if errors.Is(index.Err, store.ErrNotFound) {
		return nil, nil // none, or none since an older release
	}
	if index.Err != nil {
		return nil, index.Err
	}
	list, err := liveSessions(index.Value, now)
	if err != nil {
		return nil, err
	}
	before, err := revokedBefore(all)
	if err != nil {
		return nil, err
	}
	list = slices.DeleteFunc(list, func(s Info) bool { return !before.IsZero() && !s.Issued.After(before) })
	if len(list) == 0 {
		return nil, nil
	}
	// Each one's own revocation (a logout, an admin's end) and its trust's
	// (endTrusts), in one round trip.
	var rb store.Batch
	ops := make([]*store.Op, len(list))
	trusts := map[string]*store.Op{}
	for i, s := range list {
		ops[i] = rb.Get(endkeys.Session(realm, s.SID))
		if t := s.Where.Trust; byTrust && t != "" && trusts[t] == nil {
			trusts[t] = rb.Get(endkeys.Trust(realm, t))
		}
	}
	if err := store.Do(ctx, st, &rb); err != nil {
		return nil, err
	}
	out := make([]Info, 0, len(list))
	for i, s := range list {
		trust := &store.Op{Err: store.ErrNotFound}
		if t := trusts[s.Where.Trust]; t != nil {
			trust = t
		}
		switch {
		case ops[i].Err != nil && !errors.Is(ops[i].Err, store.ErrNotFound):
			return nil, ops[i].Err
		case trust.Err != nil && !errors.Is(trust.Err, store.ErrNotFound):
			return nil, trust.Err
		case ops[i].Err != nil && trust.Err != nil: // neither found
			out = append(out, s)
		}
	}
	slices.Reverse(out)
	return out, nil
}

// End ends one of user's sessions in realm, by its SID as Sessions lists
// it: here and, within RevocationPoll, at every gate on the store, with
// its trust and every session of that trust, listed or pushed off the
// list (endTrusts: a browser that dropped its session cookie got another
// from the trust before the end, or a thousand, to push the first out).
// It reads only the store (the admin's tools use it with Caddy stopped)
// and returns the session it ended, or ErrNoSession.
//
// Ended part-way (the store failed), it is ended again to the end: the
// session is found while its own revocation is not written, even with
// its trust ended (unended), and that revocation is its last mark, after
// those of the trust's sessions. (Found only as Sessions lists it, a retry
// after the trust had ended answered ErrNoSession, and the browsers of
// the sessions not yet marked stayed known: TestARetriedEndFinishesTheJob.)
func End(ctx context.Context, st store.Store, realm, user, sid string, now time.Time) (*Info, error) {
	return EndWith(ctx, st, realm, user, sid, now, nil)
}

// EndWith is End that runs endInvites (the end of the console invites
// minted through the sessions it ended: signin's, MintedIn) once they
// have ended, before they leave user's index: where it fails, the session
// stays in the index, ended (Sessions leaves it out), and an end of it
// asked again finds it there by its own revocation and runs endInvites
// again (ends38: the retry answered ErrNoSession, and the invites minted
// through it stayed live). nil: none to end.
//
// A session a step-up replaced (NoteReplaced) is followed to the session
// that replaced it, and that one ends too, its invites with it (endInvites
// of it), to the newest: found once its own end is written, or, no longer
// listed (the replacement revoked it), at once (review39 R1; the lead: an
// admin's end of a session ends what it became).
func EndWith(ctx context.Context, st store.Store, realm, user, sid string, now time.Time, endInvites func(Info) error) (*Info, error) {
	return endWith(ctx, st, realm, user, sid, now, endInvites, maxFollowed)
}

// endWith is EndWith following at most hops replacements.
func endWith(ctx context.Context, st store.Store, realm, user, sid string, now time.Time, endInvites func(Info) error, hops int) (*Info, error) {
	list, err := unended(ctx, st, realm, user, now)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(list, func(s Info) bool { return s.SID == sid })
	if sid == "" {
		return nil, ErrNoSession
	}
	if i < 0 {
		return endNotListed(ctx, st, realm, user, sid, now, endInvites, hops)
	}
	ended := list[i]
	// Its trust ends first (endTrusts), as logout ends the browser's
	// trusts before its session.
	var trusts []string
	if ended.Where.Trust != "" {
		if trusts, err = endTrusts(ctx, st, realm, user, []string{ended.Where.Trust}, nil, now); err != nil {
			return nil, err
		}
		// Read again once the trust has ended: a sign-in by it that found
		// it before has listed its session by now, or withdraws it
		// (IssueTrusted reads the trust again once listed). With the list
		// read first: those pushed off it meanwhile end too (the trust's
		// end covers its sessions but those a release before the tb claim
		// signed, which only their own end reaches).
		again, err := unended(ctx, st, realm, user, now)
		if err != nil {
			return nil, err
		}
		for _, s := range list {
			if !slices.ContainsFunc(again, func(a Info) bool { return a.SID == s.SID }) {
				again = append(again, s)
			}
		}
		list = again
	}
	// The session named last: its revocation is what a retry looks for.
	list = append(slices.DeleteFunc(list, func(s Info) bool { return s.SID == sid }), ended)
	ends := func(s Info) bool { return s.SID == sid || endsTrust(trusts, s) }
	if err := revokeListed(ctx, st, realm, list, now, ends, sid); err != nil {
		return nil, err
	}
	if endInvites != nil {
		if err := endInvites(ended); err != nil {
			return nil, err
		}
	}
	dropSessions(ctx, st, realm, user, now, ends)
	if err := endWhatItBecame(ctx, st, realm, user, sid, now, endInvites, hops); err != nil {
		return nil, err
	}
	return &ended, nil
}

// endsTrust reports whether s came from one of the trusts ended.
func endsTrust(ended []string, s Info) bool {
	return s.Where.Trust != "" && slices.Contains(ended, s.Where.Trust)
}

// endListed ends the sessions of list that ends picks, one by one, and
// takes them out of user's index. One a device's end covers (EndDevice)
// is ended too: its browser's end mark (StillKnown reads the device's end
// only for a known-browser cookie naming it: a previous release's names none),
// and its own end and announcement for a gate of the release before,
// which reads none either (TestADevicesListedSessionsKeepTheirOwnEnds).
func endListed(ctx context.Context, st store.Store, realm, user string, list []Info, now time.Time, ends func(Info) bool) error {
	if err := revokeListed(ctx, st, realm, list, now, ends, ""); err != nil {
		return err
	}
	dropSessions(ctx, st, realm, user, now, ends)
	return nil
}

// revokeListed is endListed but for the index: the sessions of list that
// ends picks, ended one by one; own is the session whose own end this is
// (EndWith's; "": none), the others ended with it (endMark).
func revokeListed(ctx context.Context, st store.Store, realm string, list []Info, now time.Time, ends func(Info) bool, own string) error {
	for _, s := range list {
		if !ends(s) {
			continue
		}
		// Its browser then stops being known (StillKnown): a stolen one
		// gets no guess window of the owner's.
		if err := st.Put(store.Lasting(ctx), endedKey(realm, s.SID), []byte{1}, endedFor(s, now)); err != nil {
			return err
		}
		if err := st.Put(store.Lasting(ctx), endkeys.Session(realm, s.SID), endMark(now, s.SID == own), s.Expires.Sub(now)+Leeway); err != nil {
			return err
		}
		if err := announce(ctx, st, revocation{Realm: realm, SID: s.SID}); err != nil {
			return err
		}
	}
	return nil
}

// dropSessions takes sessions that have ended out of user's index. It is
// tidying only: a listing leaves them out anyway (it reads the revocation
// records), so a failure here changes nothing anyone is told, and the
// revocation it follows stands; the entries go when they expire.
func dropSessions(ctx context.Context, st store.Store, realm, user string, now time.Time, ended func(Info) bool) {
	_ = editIndex(ctx, st, realm, user, now, func(list []Info) []Info { return slices.DeleteFunc(list, ended) })
}

// liveSessions reads an index, leaving out the expired, the oldest first.
func liveSessions(raw []byte, now time.Time) ([]Info, error) {
	var list []Info
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, err
	}
	return slices.DeleteFunc(list, func(s Info) bool { return !now.Before(s.Expires) }), nil
}

// editIndex changes user's index in one atomic step (Store.Update): a
// session signed while an admin ends another, or while the user signs out
// everywhere, is neither lost nor brings an ended one back. The record
// lives as long as its longest session; the expired are dropped on every
// change.
func editIndex(ctx context.Context, st store.Store, realm, user string, now time.Time, edit func([]Info) []Info) error {
	return st.Update(ctx, sessionsKey(realm, user), func(raw []byte, found bool) ([]byte, time.Duration, error) {
		var list []Info
		if found {
			var err error
			if list, err = liveSessions(raw, now); err != nil {
				list = nil // unreadable: start again rather than refuse every sign-in
			}
		}
		if list = edit(list); len(list) == 0 {
			if !found {
				return nil, 0, store.ErrUnchanged
			}
			return nil, 0, nil
		}
		last := list[0].Expires
		for _, s := range list {
			if s.Expires.After(last) {
				last = s.Expires
			}
		}
		raw, err := json.Marshal(list)
		return raw, last.Sub(now) + Leeway, err
	})
}
