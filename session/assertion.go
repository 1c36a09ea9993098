package session

import (
	"errors"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// assertionLifetime is how long an identity assertion is valid; one is
// reused for half of that, so a busy session signs about once a minute.
const assertionLifetime = 2 * time.Minute

type assertionEntry struct {
	token string
	until time.Time
}

// ErrReleased is Assertion's answer when it would sign after the owner
// let go of the store (Config.Uses closed: a gate after its Cleanup):
// signing may rotate the keys, a write to that store. The caller hands
// the request to the owner's successor, if any.
var ErrReleased = errors.New("the store was let go of")

// Assertion is a short-lived EdDSA JWT of cl's identity for the upstream.
// It has its own type and audience, so that it never passes as a session,
// and it ends when the session does, so that reusing it cannot outlive it.
// One still to be reused is answered even after the owner let go of the
// store; a new one is then ErrReleased.
func (m *Manager) Assertion(cl *Claims) (string, error) {
	if m.assertions == nil {
		return "", errors.New("assertions need EdDSA")
	}
	now := m.now()
	m.assertMu.Lock()
	e, ok := m.assertCache[cl.SID]
	m.assertMu.Unlock()
	if ok && now.Before(e.until) {
		return e.token, nil
	}
	a := Claims{RegisteredClaims: cl.RegisteredClaims, AuthTime: cl.AuthTime, AMR: cl.AMR, SID: cl.SID}
	a.Audience = jwt.ClaimStrings{AssertionAudience(m.realm)}
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
	m.assertCache[cl.SID] = assertionEntry{token: tok, until: reuse}
	m.assertMu.Unlock()
	return tok, nil
}
