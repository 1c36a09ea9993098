package session

import (
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// withinLifetime ends a session at this gate's session_lifetime from its
// issue, though its token says later: a gate of the realm with a longer
// one, or this gate before a reload shortened it, issued it. It caps the
// claims' expiry (the cache keeps them no longer), keeping the token's
// own (Claims.signedUntil), and reports whether the session is still
// within it.
func (m *Manager) withinLifetime(cl *Claims) bool {
	if cl.IssuedAt == nil || cl.ExpiresAt == nil {
		return false
	}
	if end := cl.IssuedAt.Add(m.lifetime); end.Before(cl.ExpiresAt.Time) {
		cl.signedUntil, cl.ExpiresAt = cl.ExpiresAt.Time, jwt.NewNumericDate(end)
	}
	return m.now().Before(cl.ExpiresAt.Time)
}

// earnedHere reports whether a session may count at this gate at all: a
// login form's (Claims.LoginForm) counts only at a login form. A gate with
// a first factor in front of it takes no session that was earned with a
// code alone, inline or at its forward-auth check (where the first factor
// is not on the app's request, and the session is all the check sees). A
// session of a release before the mark carries none, and counts as before
// until it ends.
func (m *Manager) earnedHere(cl *Claims) bool { return m.form || !cl.LoginForm }

// trustedHere reports whether a session a trusted browser gave (Claims.Trusted)
// may count at this gate: only where this gate honours trusts (its
// `remember` is not off) and would have honoured that one when the
// session was issued, its code (AuthTime) no older than this gate's
// `remember` then. Another gate of the realm with a longer `remember` gave
// it from a trust this one has ended; this gate's own sign-in by the trust
// (pages' trustedSignIn: Created, a moment after the code, plus remember)
// passes (a second more for the code's whole-second AuthTime). A session
// earned by a code is not a trust's, and counts as before.
func (m *Manager) trustedHere(cl *Claims) bool {
	if !cl.Trusted {
		return true
	}
	return m.remember > 0 && cl.IssuedAt.Before(time.Unix(cl.AuthTime, 0).Add(m.remember+time.Second))
}
