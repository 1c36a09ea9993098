package session

import (
	"maps"
	"sync"
	"time"
)

// coverage is what the revocation log has told a gate since it began
// reading it without a gap: every session issued after that and revoked
// since is named here (revocation follows issue, so its entry comes after
// the log's position when the coverage began). When the store cannot
// answer, a session issued after the coverage began (by more than Leeway,
// for other instances' clocks) that is named nowhere here is as good as a
// cached one: either may only have been revoked since the last poll. So
// a session the gate has not seen yet — made on another instance moments
// before Redis went away — keeps working too.
//
// What it was told stays true after a gap (a revocation is never undone):
// a gap only begins the coverage later. So a store that forgot (Redis
// restarted without persistence, keys evicted) does not bring back a
// session this gate saw revoked (revokes), and the gate puts the records
// back (Manager.putBack).
type coverage struct {
	mu    sync.Mutex
	since time.Time
	seen  []seenRevocation // oldest first
	sids  map[string]time.Time
	users map[string]userRevoked
	// trusts: the trusts whose every session was revoked (endTrusts).
	trusts map[string]time.Time
	// devices: the devices removed (EndDevice), by deviceOf.
	devices map[deviceKey]deviceRevoked
}

type seenRevocation struct {
	at               time.Time
	sid, user, trust string
	device           deviceKey
}

// deviceRevoked is a device's end the log told of (its device: the key it
// is kept by), and when it was read.
type deviceRevoked struct {
	read time.Time
	end  deviceEnd
}

// userRevoked is when all of a user's sessions were revoked: read, when
// the gate learnt it (at the latest), and at, the record's own time when
// the log said it (zero for an entry of an earlier release).
type userRevoked struct{ read, at time.Time }

// maxCovered bounds what a gate remembers of the log (about 100 bytes
// each); past it, the coverage begins later instead.
const maxCovered = 20000

// reset begins the coverage at now, after a gap: what it was told of
// revocations stays.
func (c *coverage) reset(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.since = now
	if c.sids == nil {
		c.sids, c.users, c.trusts = map[string]time.Time{}, map[string]userRevoked{}, map[string]time.Time{}
		c.devices = map[deviceKey]deviceRevoked{}
	}
}

// add notes a revocation read at now; what revoked sessions that have
// expired by now (older than lifetime) is dropped.
func (c *coverage) add(now time.Time, rv revocation, lifetime time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen = append(c.seen, seenRevocation{at: now, sid: rv.SID, user: rv.User, trust: rv.Trust, device: rv.device()})
	if rv.SID != "" {
		c.sids[rv.SID] = now
	}
	if rv.Trust != "" {
		c.trusts[rv.Trust] = now
	}
	if d := rv.device(); d != (deviceKey{}) {
		e := deviceEnd{At: time.Unix(0, rv.At), Keep: rv.Keep, Mark: rv.Mark}
		if old, ok := c.devices[d]; !ok || !old.end.At.After(e.At) { // never back
			c.devices[d] = deviceRevoked{read: now, end: e}
		}
	}
	if rv.User != "" {
		u := userRevoked{read: now}
		if rv.At != 0 {
			u.at = time.Unix(0, rv.At)
		}
		if old, ok := c.users[rv.User]; ok && old.at.After(u.at) {
			u.at = old.at // never back
		}
		c.users[rv.User] = u
	}
	for len(c.seen) > 0 && (len(c.seen) > maxCovered || now.Sub(c.seen[0].at) > lifetime+Leeway) {
		old := c.seen[0]
		if len(c.seen) > maxCovered && old.at.After(c.since) {
			c.since = old.at // forgetting it: sessions issued before it are not covered
		}
		if c.sids[old.sid] == old.at {
			delete(c.sids, old.sid)
		}
		if c.users[old.user].read == old.at {
			delete(c.users, old.user)
		}
		if c.trusts[old.trust] == old.at {
			delete(c.trusts, old.trust)
		}
		if c.devices[old.device].read == old.at {
			delete(c.devices, old.device)
		}
		c.seen = c.seen[1:]
	}
}

// admits reports whether the log has told this gate everything about cl:
// issued after the coverage began, and revoked nowhere in it.
func (c *coverage) admits(cl *Claims) bool {
	if cl.IssuedAt == nil {
		return false
	}
	iat := cl.IssuedAt.Time
	c.mu.Lock()
	defer c.mu.Unlock()
	if !iat.After(c.since.Add(Leeway)) {
		return false
	}
	if _, ok := c.sids[cl.SID]; ok || c.trustRevoked(cl) || c.deviceRevoked(cl) {
		return false
	}
	if u, ok := c.users[cl.Subject]; ok && !iat.After(u.read) {
		return false
	}
	return true
}

// revokes reports whether the log told this gate that cl was revoked: its
// session, or all its user's sessions at a time it was issued by (known
// exactly: a session signed in just after must not end with them).
func (c *coverage) revokes(cl *Claims) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.sids[cl.SID]; ok || c.trustRevoked(cl) || c.deviceRevoked(cl) {
		return true
	}
	u, ok := c.users[cl.Subject]
	return ok && !u.at.IsZero() && cl.IssuedAt != nil && !cl.IssuedAt.After(u.at)
}

// trustRevoked reports whether the log told of the end of the trust cl
// came from or made (c.mu held).
func (c *coverage) trustRevoked(cl *Claims) bool {
	if cl.Trust == nil || *cl.Trust == "" {
		return false
	}
	_, ok := c.trusts[*cl.Trust]
	return ok
}

// deviceRevoked reports whether the log told of the end of the device cl
// names, covering cl (c.mu held).
func (c *coverage) deviceRevoked(cl *Claims) bool {
	if len(c.devices) == 0 {
		return false
	}
	d, ok := c.devices[claimedDevice(cl)]
	return ok && d.end.ends(cl)
}

// knownDevices is the devices' ends the gate was told of, by deviceOf,
// with when each was read, for putting back as known does.
func (c *coverage) knownDevices() map[deviceKey]deviceRevoked {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.devices)
}

// known is what the gate was told is revoked, for putting back into a
// store that forgot it: each session's and each trust's with when it was
// told, each user's exact time.
func (c *coverage) known() (sids, trusts, users map[string]time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	sids, trusts, users = make(map[string]time.Time, len(c.sids)), make(map[string]time.Time, len(c.trusts)), map[string]time.Time{}
	for sid, at := range c.sids {
		sids[sid] = at
	}
	for id, at := range c.trusts {
		trusts[id] = at
	}
	for user, u := range c.users {
		if !u.at.IsZero() {
			users[user] = u.at
		}
	}
	return sids, trusts, users
}

// toldBefore reports whether the log told this gate of sid's revocation
// before t (by its clock): then that revocation was made before t.
func (c *coverage) toldBefore(sid string, t time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	at, ok := c.sids[sid]
	return ok && at.Before(t)
}
