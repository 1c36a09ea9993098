package session

import (
	"context"
	"errors"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/store"
)

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
// The console invites minted in old go with the browser (review38 F1;
// lead, on merge): where the new session is old's user's (a step-up, a
// phone's confirmation), their entries in her index name sid from then
// on (MoveMinted, before old's revocation), so the admin's end of the
// session her list shows, or of its trust, ends them, and an honest
// admin's invite outlives her step-ups. Where it is another user's (a
// shared computer), nobody's list shows old's browser any more: they end
// with old (MintedIn of old alone), told in the audit (session_replaced,
// invites_ended). A mint in flight in old when it is revoked is refused
// its link (enrollment's Live check after the mint); one that passed that
// check before the revocation, its entry written after the move, is moved
// by a second move once old is revoked (logout39). Where an admin ended
// the new session meanwhile (her end read the index before a move), what
// moved ends here, told in Minted. Where the move or
// the end fails, old is left live (the error is answered), as a store
// failure at its revocation leaves it.
//
// Any old this realm signed that is live ends, whoever's it is: on a
// shared computer the last user's session ends with the next sign-in.
// One not this realm's, expired, or already ended costs a read at most.
// A store failure is answered (the caller logs it): the new session
// stands, and old lives until it expires, as before.
func (m *Manager) Replaced(ctx context.Context, old, user, sid string) (Replacement, error) {
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
	var minted MintedEnd
	if cl.Subject == user {
		err = MoveMinted(ctx, m.store, m.realm, user, cl.SID, sid, m.now())
	} else {
		minted, err = EndMintedOf(ctx, m.store, m.realm, cl.Subject, m.now(), m.logger, MintedIn(cl.SID, ""))
	}
	if err != nil {
		return out, err
	}
	ended, err := m.Revoke(ctx, old, cl)
	if err != nil {
		return out, err
	}
	if cl.Subject == user {
		// Again, once old is revoked (logout39, close17 Left 1 (a)): a
		// mint in flight in old that wrote its entry after the move and
		// passed its Live check before the revocation hands out a link its
		// entry names old by; moved now, the end of the session her list
		// shows reaches it. One written after this move finds old revoked:
		// its link is refused. This move failing is logged, not answered:
		// old has ended (told), and an entry naming it is a signed-out
		// session's, listed and ended by old (SignedOutMinted).
		if err := MoveMinted(ctx, m.store, m.realm, user, cl.SID, sid, m.now()); err != nil {
			m.logger.Warn("moving the invites a replaced session minted as it ended to the new session; the console lists them by the old one", zap.Error(err))
		}
		// The new session ended meanwhile by an admin's end (close17 Left
		// 1 (b)): her end revokes it before it reads the index, so one
		// that read it before a move ended nothing the move brought; this
		// read after both moves sees her revocation. What moved ends with
		// it, as her end would have ended it (not a sign-out's: those end
		// no invite).
		if by, err := m.store.Get(ctx, endkeys.Session(m.realm, sid)); err == nil && string(by) != revokedByLogout && string(by) != revokedAnnounced {
			if minted, err = EndMintedOf(ctx, m.store, m.realm, user, m.now(), m.logger, MintedIn(sid, "")); err != nil {
				m.logger.Warn("ending the invites moved to a new session an admin ended meanwhile; the console lists them by it", zap.Error(err))
			}
		} else if err != nil && !errors.Is(err, store.ErrNotFound) {
			m.logger.Warn("reading whether the new session was ended as the replaced one's invites moved to it; the console lists them by it if it was", zap.Error(err))
		}
	}
	if ended {
		out.User, out.SID = cl.Subject, cl.SID
	}
	out.Minted = minted
	return out, nil
}
