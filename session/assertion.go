package session

import (
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
	if len(m.assertCache) >= CachedSessions {
		clear(m.assertCache)
	}
	m.assertCache[key] = assertionEntry{token: tok, until: reuse}
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
