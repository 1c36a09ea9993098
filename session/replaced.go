package session

import "context"

// Replacement is what Replaced did: the session it ended (User, SID; ""
// for none: not this realm's, expired, already ended), and what it did
// with the console invites minted in it.
type Replacement struct {
	User, SID string
	Minted    MintedEnd
}

// Replaced ends the session whose token old a browser held, now that a
// sign-in in that browser handed it the session sid in its place: the
// step-up before a devices-page change, the confirmation of a phone being
// added, a sign-in over one still live (another name, a stronger kind a
// route requires). The browser's cookie no longer names old, so old lives
// on only in a copy of that cookie, which must not sign anyone in for the
// rest of its lifetime (walk38); the user's list of sessions no longer
// shows the browser twice. It is a sign-out of old alone (Revoke): the
// trust it came from stays (the browser is still trusted, its new session
// names that trust too).
//
// The console invites minted in old end with it (review38 F1; MintedIn
// of old alone, not of its trust), before it does: old ends because a
// copy of its cookie may be a thief's, and what a thief minted in it must
// not outlive it (attack36 F3) — once ended, old leaves the user's list,
// and no end of it by the admin reaches its invites any more. An honest
// admin's invite minted in it ends too (a step-up after a mint, in the
// same browser): told in the audit (session_replaced, invites_ended), she
// mints it again. Where their end fails, old is left live (the error is
// answered), as a store failure at its revocation leaves it.
//
// Any old this realm signed that is live ends, whoever's it is: on a
// shared computer the last user's session ends with the next sign-in.
// One not this realm's, expired, or already ended costs a read at most.
// A store failure is answered (the caller logs it): the new session
// stands, and old lives until it expires, as before.
func (m *Manager) Replaced(ctx context.Context, old, sid string) (Replacement, error) {
	var out Replacement
	if old == "" {
		return out, nil
	}
	cl, err := m.Verify(old)
	if err != nil || cl.SID == "" || cl.SID == sid {
		return out, nil
	}
	if live, err := m.Live(ctx, cl); err != nil || !live {
		return out, err
	}
	minted, err := EndMintedOf(ctx, m.store, m.realm, cl.Subject, m.now(), m.logger, MintedIn(cl.SID, ""))
	if err != nil {
		return out, err
	}
	ended, err := m.Revoke(ctx, old, cl)
	if err != nil {
		return out, err
	}
	if ended {
		out.User, out.SID = cl.Subject, cl.SID
	}
	out.Minted = minted
	return out, nil
}
