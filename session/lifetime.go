package session

import "github.com/golang-jwt/jwt/v5"

// withinLifetime ends a session at this gate's session_lifetime from its
// issue, though its token says later: a gate of the realm with a longer
// one, or this gate before a reload shortened it, issued it. It caps the
// claims' expiry (the cache keeps them no longer) and reports whether the
// session is still within it.
func (m *Manager) withinLifetime(cl *Claims) bool {
	if cl.IssuedAt == nil || cl.ExpiresAt == nil {
		return false
	}
	if end := cl.IssuedAt.Add(m.lifetime); end.Before(cl.ExpiresAt.Time) {
		cl.ExpiresAt = jwt.NewNumericDate(end)
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
