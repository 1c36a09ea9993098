package session

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/internal/clock"
	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/store"
)

// Revoke ends a session for its remaining life, here and, within
// RevocationPoll, at every gate on the store. A session already revoked
// and announced is left as it is: logout verifies only the signature, so
// an old cookie can be shown again and again, and each time cost a
// revocation log entry (past maxCatchUp in a poll, every instance empties
// its cache) and a search of this process's caches. The record says
// announced only once the log has the entry: a logout that failed between
// the two writes announces on its next try. ended says whether this
// logout ended the session (the audit's signed_out, once): false for a
// replay, for a session the admin ended or all the user's sessions ended
// before (a sign-out everywhere), true again for a logout's next try
// after a fault between its writes (it told nobody).
func (m *Manager) Revoke(ctx context.Context, token string, cl *Claims) (ended bool, err error) {
	key := endkeys.Session(m.realm, cl.SID)
	var b store.Batch
	one, all := b.Get(key), b.Get(endkeys.User(m.realm, cl.Subject))
	fault := store.Do(ctx, m.store, &b)
	before, _ := revokedBefore(all)
	switch {
	case fault != nil:
		// A store that did not answer the read will not take the write:
		// the user is told to try again now, not after a second wait.
		return false, fault
	case one.Err == nil && (string(one.Value) == revokedAnnounced || strings.HasPrefix(string(one.Value), revokedByEndAnnounced) || strings.HasPrefix(string(one.Value), revokedWithAnnounced)),
		errors.Is(one.Err, store.ErrNotFound) && !before.IsZero() && !cl.IssuedAt.After(before):
		m.cache.Remove(token) // a replay, or a session already ended with the user's others
		return false, nil
	case one.Err == nil:
		ended = string(one.Value) == revokedByLogout // its last try failed after writing
	default:
		ended = true
	}
	// Ended before by an end (EndWith: an admin's; or by a logout of an
	// earlier release): its mark stays as that end wrote it, and is
	// marked announced as an end's (endAnnounced), so EndedByAnEnd and
	// EndedAt still read it (review39 R1: "announced" erased it, and a
	// step-up racing an admin's end of the session it replaced no longer
	// saw that end).
	mark, told := []byte(revokedByLogout), []byte(revokedAnnounced)
	if !ended {
		mark, told = one.Value, endAnnounced(one.Value)
	}
	ttl := cl.ExpiresAt.Sub(m.now()) + Leeway
	if err := m.store.Put(store.Lasting(ctx), key, mark, ttl); err != nil {
		return false, err
	}
	m.cache.Remove(token)
	m.covered.add(m.now(), revocation{Realm: m.realm, SID: cl.SID}, m.lifetime)
	if err := announce(ctx, m.store, revocation{Realm: m.realm, SID: cl.SID}); err != nil {
		return false, err
	}
	// Not lasting: lost, a replay announces once more (and is told ended).
	if err := m.store.Put(ctx, key, told, ttl); err != nil {
		m.logger.Warn("marking a revocation announced; a replayed logout announces it again", zap.Error(err))
	}
	dropSessions(ctx, m.store, m.realm, cl.Subject, m.now(), func(s Info) bool { return s.SID == cl.SID })
	return ended, nil
}

// EndedByAnEnd says whether sid's own revocation record was written by an
// end (an admin's: EndWith), not by a sign-out or a replacement (Revoke,
// whose values are below); false where sid has none.
func EndedByAnEnd(ctx context.Context, st store.Store, realm, sid string) (bool, error) {
	byEnd, _, err := EndedAt(ctx, st, realm, sid)
	return byEnd, err
}

// EndedAt is EndedByAnEnd, and when that end was made, as its record
// says (revokedByEnd; zero for an end of the release before, whose
// record says no time).
func EndedAt(ctx context.Context, st store.Store, realm, sid string) (byEnd bool, at time.Time, err error) {
	byEnd, _, at, err = endOf(ctx, st, realm, sid)
	return byEnd, at, err
}

// EndedItself is EndedAt for an end of sid itself (EndWith of it: an
// admin's end of that session), not one that ended it with its device,
// trust or user: a step-up replacing sid follows only that end to the new
// session (signin's afterTheMove; a removal of the phone that signed old
// in reaches what the new session earned no further than its own rules
// say: enrollment/addedby.go).
func EndedItself(ctx context.Context, st store.Store, realm, sid string) (own bool, at time.Time, err error) {
	byEnd, own, at, err := endOf(ctx, st, realm, sid)
	return byEnd && own, at, err
}

// KnewOfEndBefore reports whether this gate had read sid's revocation in
// the log before t (its clock): whatever ended sid did so before t. For an
// end whose record says no time (the previous release's 1: EndedItself's
// zero), where a step-up must tell an end made before its sign-in began
// from one made during it (signin's endedBeforeTheMove, endrace41); false
// where this gate was not told (it started since, or not yet).
func (m *Manager) KnewOfEndBefore(sid string, t time.Time) bool { return m.covered.toldBefore(sid, t) }

// endOf reads sid's revocation record (readEnd); none is no end.
func endOf(ctx context.Context, st store.Store, realm, sid string) (byEnd, own bool, at time.Time, err error) {
	by, err := st.Get(ctx, endkeys.Session(realm, sid))
	if errors.Is(err, store.ErrNotFound) {
		return false, false, time.Time{}, nil
	}
	if err != nil {
		return false, false, time.Time{}, err
	}
	byEnd, own, at = readEnd(by)
	return byEnd, own, at, nil
}

// The values of a session's revocation record (any value revokes: Check
// reads only that the record exists): revokedByLogout while a logout has
// not yet announced it (a next try after a fault still tells of the
// sign-out), revokedAnnounced once the revocation log has its entry;
// an end's (revokeListed: an admin's end of it, of its trust or its
// device) is revokedByEnd and the end's time in Unix nanoseconds, and
// revokedByEndAnnounced and that time once a logout of it (a replayed
// cookie, a step-up replacing it) announced it again. Any other value
// is an end's of the release before (1), of no known time.
const (
	revokedByLogout       = "logout"
	revokedAnnounced      = "announced"
	revokedByEnd          = "end@"
	revokedByEndAnnounced = "end announced@"
	// An end of the session by another's end: its device's removal, its
	// trust's end, a reset (revokedWith: not its own end, which a step-up
	// replacing it follows to the new session: EndedItself).
	revokedWith          = "ended with@"
	revokedWithAnnounced = "ended with announced@"
)

// endMark is an end's record of a session at now: its own end's (EndWith
// of it), else one that ended it with what it came from (own false).
func endMark(now time.Time, own bool) []byte {
	if !own {
		return []byte(revokedWith + strconv.FormatInt(now.UnixNano(), 10))
	}
	return []byte(revokedByEnd + strconv.FormatInt(now.UnixNano(), 10))
}

// readEnd says whether a session's revocation record v is an end's,
// whether its own (not one of its device, trust or user: endMark), and
// when that end was made (zero: not said). An end of the release before
// says neither: taken for its own.
func readEnd(v []byte) (byEnd, own bool, at time.Time) {
	s := string(v)
	if s == revokedByLogout || s == revokedAnnounced {
		return false, false, time.Time{}
	}
	for _, p := range []string{revokedWithAnnounced, revokedWith, revokedByEndAnnounced, revokedByEnd} {
		if strings.HasPrefix(s, p) {
			own = p == revokedByEndAnnounced || p == revokedByEnd
			if n, err := strconv.ParseInt(strings.TrimPrefix(s, p), 10, 64); err == nil {
				return true, own, time.Unix(0, n)
			}
			return true, own, time.Time{}
		}
	}
	return true, true, time.Time{}
}

// endAnnounced is an end's record v once announced again, its kind and
// time kept.
func endAnnounced(v []byte) []byte {
	_, own, at := readEnd(v)
	p := revokedByEndAnnounced
	if !own {
		p = revokedWithAnnounced
	}
	if !at.IsZero() {
		return []byte(p + strconv.FormatInt(at.UnixNano(), 10))
	}
	return []byte(p)
}

// Live reports whether cl's session is still live, as the store says now
// (not the cache): neither it nor all its user's sessions revoked. A
// change a session let in is checked again this way once written, and
// undone if the session ended meanwhile: ends of every session (an admin's
// reset, a sign-out everywhere) write their revocation before they remove
// anything, so of the change and the end one sees the other.
func (m *Manager) Live(ctx context.Context, cl *Claims) (bool, error) {
	live, _, err := m.LiveGuard(ctx, cl)
	return live, err
}

// LiveGuard is Live, and, for a live session, the guard of its change
// (store.Guard): the records read, which the change's first lasting
// write, made with store.WithGuard, finds still as they were in the same
// atomic step, or is refused (store.ErrGuardBroken): an end written
// between this read and that write (at another instance) lets no change
// through.
func (m *Manager) LiveGuard(ctx context.Context, cl *Claims) (bool, *store.Guard, error) {
	revoked, reads, err := m.revokedReads(ctx, cl)
	if err != nil || revoked {
		return false, nil, err
	}
	return true, store.NewGuard(reads...), nil
}

// revoked reads cl's revocation records in one round trip, its own (a
// logout), its trust's (an admin's end: endTrusts), its device's (its
// removal: EndDevice) and its user's (an admin's reset, a sign-out
// everywhere), and reports whether any ends it;
// a record it cannot read does. err is the store's: it could not be asked.
func (m *Manager) revoked(ctx context.Context, cl *Claims) (bool, error) {
	revoked, _, err := m.revokedReads(ctx, cl)
	return revoked, err
}

// revokedReads is revoked, and the reads it made (for a guard).
func (m *Manager) revokedReads(ctx context.Context, cl *Claims) (bool, []*store.Op, error) {
	var b store.Batch
	one, all := b.Get(endkeys.Session(m.realm, cl.SID)), b.Get(endkeys.User(m.realm, cl.Subject))
	var trust *store.Op
	if cl.Trust != nil && *cl.Trust != "" {
		trust = b.Get(endkeys.Trust(m.realm, *cl.Trust))
	}
	device := readDeviceEnd(&b, m.realm, cl)
	if err := store.Do(ctx, m.store, &b); err != nil {
		return false, nil, err
	}
	before, err := revokedBefore(all)
	// What the log told this gate counts too: a store that forgot (a
	// restart without persistence, an eviction) brings nothing back.
	return one.Err == nil || (trust != nil && trust.Err == nil) || err != nil || (!before.IsZero() && !cl.IssuedAt.After(before)) ||
		deviceEnds(device, cl) || m.covered.revokes(cl), []*store.Op{one, all, trust, device}, nil
}

// revokeUserAt writes user's revocation record: every session issued
// until now ends. It never moves back.
func revokeUserAt(ctx context.Context, st store.Store, realm, user string, now time.Time) error {
	return st.Update(ctx, endkeys.User(realm, user), func(old []byte, found bool) ([]byte, time.Duration, error) {
		var before time.Time
		if found && json.Unmarshal(old, &before) == nil && !now.After(before) {
			return nil, 0, store.ErrUnchanged
		}
		raw, err := json.Marshal(now.UTC())
		return raw, 0, err
	})
}

// RevokedBefore is when user's sessions were last all revoked (zero if never).
func RevokedBefore(ctx context.Context, st store.Store, realm, user string) (time.Time, error) {
	op := &store.Op{}
	op.Value, op.Err = st.Get(ctx, endkeys.User(realm, user))
	return revokedBefore(op)
}

// ReadRevoked adds to b the read of user's revocation record and returns
// RevokedBefore's answer, once b is done: for a caller that reads it in
// one round trip with other records of the store the sessions keep it in
// (signin's inviteStands: the invite's spend beside it).
func ReadRevoked(b *store.Batch, realm, user string) func() (time.Time, error) {
	op := b.Get(endkeys.User(realm, user))
	return func() (time.Time, error) { return revokedBefore(op) }
}

// revokedBefore reads a user's revocation record from op, a Get.
func revokedBefore(op *store.Op) (time.Time, error) {
	if errors.Is(op.Err, store.ErrNotFound) {
		return time.Time{}, nil
	}
	var t time.Time
	err := op.Err
	if err == nil {
		err = json.Unmarshal(op.Value, &t)
	}
	return t, err
}

// AnnounceEnd announces in the revocation log an end an import wrote to
// st (enrollment.Core.Announce): key and value are the record's, a
// session's end (endkeys.Session), a user's revocation (endkeys.User), a
// trust's end (endkeys.Trust) or a device's (endkeys.Device). Without it,
// a gate that had cached a session the import ends served it until its
// cache entry went. A key of none of these is announced as nothing.
func AnnounceEnd(ctx context.Context, st store.Store, key string, value []byte) error {
	return AnnounceEndBy(clock.Now)(ctx, st, key, value)
}

// AnnounceEndBy is AnnounceEnd where an unreadable device's end is
// announced at now's time, the gate's clock (clock32), as its other ends.
func AnnounceEndBy(now func() time.Time) func(ctx context.Context, st store.Store, key string, value []byte) error {
	return func(ctx context.Context, st store.Store, key string, value []byte) error {
		return announceEnd(ctx, st, key, value, now)
	}
}

func announceEnd(ctx context.Context, st store.Store, key string, value []byte, now func() time.Time) error {
	parts, ok := store.SplitKey(key)
	if ok && len(parts) == 4 && key == endkeys.Device(parts[1], parts[2], parts[3]) {
		var e deviceEnd
		if json.Unmarshal(value, &e) != nil {
			e.At = now() // unreadable, it ends every session of the device: forget them all
		}
		return announce(ctx, st, revocation{Realm: parts[1], Of: parts[2], Device: parts[3], At: e.At.UnixNano(), Keep: e.Keep, Mark: e.Mark})
	}
	if !ok || len(parts) != 3 {
		return nil
	}
	realm, id := parts[1], parts[2]
	rv := revocation{Realm: realm}
	switch key {
	case endkeys.Session(realm, id):
		rv.SID = id
	case endkeys.Trust(realm, id):
		rv.Trust = id
	case endkeys.User(realm, id):
		at, err := revokedBefore(&store.Op{Value: value})
		if err != nil {
			return nil
		}
		rv.User, rv.At = id, at.UnixNano()
	default:
		return nil
	}
	return announce(ctx, st, rv)
}
