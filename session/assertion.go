package session

import (
	"cmp"
	"errors"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// assertionLifetime is how long an identity assertion is valid; one is
// reused for half of that, so a busy session signs about once a minute.
const assertionLifetime = 2 * time.Minute

// assertionKey names an assertion to reuse: its session's, for its app.
type assertionKey struct{ sid, app string }

type assertionEntry struct {
	token string
	until time.Time
}

// assertionApps is how many apps' assertions one session keeps to reuse.
// The app is named by the request (its Host): at a catch-all site (`:443`,
// `*.example.com`) a client may name a new one at every request, and each
// is signed. Past these, a session's new one takes the place of its own
// due first: a flood of Hosts churns the client's own, no one else's
// (before, it filled the cache, which was then cleared for everyone).
const assertionApps = 8

// sessionApps are the apps a session's assertions in the cache are for,
// read and written only when one is signed (a reuse reads the cache alone).
type sessionApps struct {
	n    int
	apps [assertionApps]string
}

// keepAssertion keeps e to reuse as key's (under assertMu), in the place
// of the session's one due first when it holds assertionApps. Past
// assertMax in all, a session's go to make room: of a few the map answers
// first (in no set order), the one whose newest is oldest (idle, most
// likely), never key's own, and never everyone's at once.
func (m *Manager) keepAssertion(key assertionKey, e assertionEntry) {
	if _, ok := m.assertCache[key]; ok {
		m.assertCache[key] = e
		return
	}
	if m.assertApps == nil {
		m.assertApps = map[string]*sessionApps{}
	}
	s := m.assertApps[key.sid]
	if s == nil {
		s = new(sessionApps)
		m.assertApps[key.sid] = s
	}
	at := s.n
	if at == len(s.apps) {
		at = 0
		for i, app := range s.apps {
			if m.assertCache[assertionKey{key.sid, app}].until.Before(m.assertCache[assertionKey{key.sid, s.apps[at]}].until) {
				at = i
			}
		}
		delete(m.assertCache, assertionKey{key.sid, s.apps[at]})
	} else {
		s.n++
	}
	s.apps[at] = key.app
	m.assertCache[key] = e
	for len(m.assertCache) > cmp.Or(m.assertMax, CachedSessions) {
		if !m.dropAssertions(key.sid) {
			return
		}
	}
}

// dropAssertions forgets the assertions of one session but keep's, the
// idlest of a few (keepAssertion); false if there is none.
func (m *Manager) dropAssertions(keep string) bool {
	drop, newest, seen := "", time.Time{}, 0
	for sid, s := range m.assertApps {
		if sid == keep {
			continue
		}
		var t time.Time
		for _, app := range s.apps[:s.n] {
			if u := m.assertCache[assertionKey{sid, app}].until; u.After(t) {
				t = u
			}
		}
		if drop == "" || t.Before(newest) {
			drop, newest = sid, t
		}
		if seen++; seen == 8 {
			break
		}
	}
	if drop == "" {
		return false
	}
	s := m.assertApps[drop]
	for _, app := range s.apps[:s.n] {
		delete(m.assertCache, assertionKey{drop, app})
	}
	delete(m.assertApps, drop)
	return true
}

// ErrReleased is Assertion's answer when it would sign after the owner
// let go of the store (Config.Uses closed: a gate after its Cleanup):
// signing may rotate the keys, a write to that store. The caller hands
// the request to the owner's successor, if any.
var ErrReleased = errors.New("the store was let go of")

// Assertion is a short-lived EdDSA JWT of cl's identity for the upstream
// at app (a host, host:port or URL; "" where the gate cannot tell it).
// It has its own type and audience, so that it never passes as a session,
// and it ends when the session does, so that reusing it cannot outlive it.
// Its audience names app's host too (AssertionAudienceFor), for the app
// to check: one app of the realm handed an assertion holds none another
// takes as its own. One still to be reused is answered even after the
// owner let go of the store; a new one is then ErrReleased.
func (m *Manager) Assertion(cl *Claims, app string) (string, error) {
	if m.assertions == nil {
		return "", errors.New("assertions need EdDSA")
	}
	now := m.now()
	key := assertionKey{cl.SID, app} // as given: a reuse parses no host
	m.assertMu.Lock()
	e, ok := m.assertCache[key]
	m.assertMu.Unlock()
	if ok && now.Before(e.until) {
		return e.token, nil
	}
	a := Claims{RegisteredClaims: cl.RegisteredClaims, AuthTime: cl.AuthTime, AMR: cl.AMR, SID: cl.SID}
	a.Audience = jwt.ClaimStrings{AssertionAudience(m.realm)}
	if host := appHost(app); host != "" {
		a.Audience = append(a.Audience, AssertionAudienceFor(m.realm, host))
	}
	a.IssuedAt = jwt.NewNumericDate(now)
	until := now.Add(assertionLifetime)
	if cl.ExpiresAt != nil && cl.ExpiresAt.Before(until) {
		until = cl.ExpiresAt.Time
	}
	a.ExpiresAt = jwt.NewNumericDate(until)
	if m.uses != nil {
		if !m.uses.Enter() {
			return "", ErrReleased
		}
		defer m.uses.Release()
	}
	tok, err := m.assertions.Sign(a)
	if err != nil {
		return "", err
	}
	reuse := now.Add(assertionLifetime / 2)
	if until.Before(reuse) {
		reuse = until
	}
	m.assertMu.Lock()
	m.keepAssertion(key, assertionEntry{token: tok, until: reuse})
	m.assertMu.Unlock()
	return tok, nil
}

// appHost is the host name app names (a host, host:port or URL), in lower
// case and without its port: "" for none, or for one no browser sends.
func appHost(app string) string {
	if strings.Contains(app, "://") {
		u, err := url.Parse(app)
		if err != nil {
			return ""
		}
		app = u.Host
	}
	if h, _, err := net.SplitHostPort(app); err == nil {
		app = h
	}
	app = strings.ToLower(strings.Trim(app, "[]"))
	if strings.ContainsFunc(app, func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.ContainsRune("-.:", c))
	}) {
		return ""
	}
	return app
}
