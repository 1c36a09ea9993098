package session

import (
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
type coverage struct {
	mu    sync.Mutex
	since time.Time
	seen  []seenRevocation // oldest first
	sids  map[string]time.Time
	users map[string]time.Time // when all the user's sessions were revoked (at the latest)
}

type seenRevocation struct {
	at        time.Time
	sid, user string
}

// maxCovered bounds what a gate remembers of the log (about 100 bytes
// each); past it, the coverage begins later instead.
const maxCovered = 20000

// reset begins the coverage at now, knowing nothing (after a gap).
func (c *coverage) reset(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.since, c.seen = now, nil
	c.sids, c.users = map[string]time.Time{}, map[string]time.Time{}
}

// add notes a revocation read at now; what revoked sessions that have
// expired by now (older than lifetime) is dropped.
func (c *coverage) add(now time.Time, rv revocation, lifetime time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen = append(c.seen, seenRevocation{at: now, sid: rv.SID, user: rv.User})
	if rv.SID != "" {
		c.sids[rv.SID] = now
	}
	if rv.User != "" {
		c.users[rv.User] = now
	}
	for len(c.seen) > 0 && (len(c.seen) > maxCovered || now.Sub(c.seen[0].at) > lifetime+Leeway) {
		old := c.seen[0]
		if len(c.seen) > maxCovered && old.at.After(c.since) {
			c.since = old.at // forgetting it: sessions issued before it are not covered
		}
		if c.sids[old.sid] == old.at {
			delete(c.sids, old.sid)
		}
		if c.users[old.user] == old.at {
			delete(c.users, old.user)
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
	if _, ok := c.sids[cl.SID]; ok {
		return false
	}
	if t, ok := c.users[cl.Subject]; ok && !iat.After(t) {
		return false
	}
	return true
}
