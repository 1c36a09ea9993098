package session

import "context"

// Replaced ends the session whose token old a browser held, now that a
// sign-in in that browser handed it the session sid in its place: the
// step-up before a devices-page change, the confirmation of a phone being
// added, a sign-in over one still live (another name, a stronger kind a
// route requires). The browser's cookie no longer names old, so old lives
// on only in a copy of that cookie, which must not sign anyone in for the
// rest of its lifetime (walk38); the user's list of sessions no longer
// shows the browser twice. It is a sign-out of old alone (Revoke): the
// trust it came from stays (the browser is still trusted, its new session
// names that trust too), and so do the invites it minted.
//
// Any old this realm signed and that has not expired ends, whoever's it
// is: on a shared computer the last user's session ends with the next
// sign-in. One not this realm's, expired, or already ended costs nothing.
// A store failure is answered (the caller logs it): the new session
// stands, and old lives until it expires, as before.
func (m *Manager) Replaced(ctx context.Context, old, sid string) error {
	if old == "" {
		return nil
	}
	cl, err := m.Verify(old)
	if err != nil || cl.SID == "" || cl.SID == sid {
		return nil
	}
	_, err = m.Revoke(ctx, old, cl)
	return err
}
