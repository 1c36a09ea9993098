package signin

import (
	"context"
	"errors"
	"slices"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/session"
)

// Replacement is what EndReplaced did: the session it ended (User, SID;
// "" for none: not this realm's, expired, already ended), and what it did
// with the console invites minted in it.
type Replacement struct {
	User, SID string
	Minted    session.MintedEnd
}

// EndReplaced is a sign-in's end of the session whose token old its
// browser's cookie named, now that the sign-in handed that browser the
// session sid of user in its place: the step-up before a devices-page
// change, the confirmation of a phone being added, a sign-in over one
// still live (another name, a stronger kind a route requires), a trusted
// browser's. One step of signin's as the ends of ends.go are (#23: the
// pages decided it before, through session.Manager.Replaced): the pages
// pass the cookie the browser held once the new one is set, and log what
// it answers. The browser's cookie no longer names old, so old lives on
// only in a copy of that cookie, which must not sign anyone in for the
// rest of its lifetime (walk38); the user's list of sessions no longer
// shows the browser twice. It is a sign-out of old alone (Revoke): the
// trust it came from stays (the browser is still trusted, its new session
// names that trust too).
//
// The console invites minted in old go with the browser (review38 F1;
// lead, on merge): where the new session is old's user's (a step-up, a
// phone's confirmation), their entries in her index name sid from then
// on (session.MoveMinted, before old's revocation), so the admin's end of
// the session her list shows, or of its trust, ends them, and an honest
// admin's invite outlives her step-ups. Where it is another user's (a
// shared computer), nobody's list shows old's browser any more: they end
// with old (MintedIn of old alone). A mint in flight in old when it is
// revoked is refused its link (enrollment's Live check after the mint);
// one that passed that check before the revocation is moved by a second
// move (afterTheMove). Where the move or the end fails, old is left live
// (the error is answered), as a store failure at its revocation leaves it.
//
// An admin's end of old racing this (review39 R1) ends sid too, and what
// moved: this writes which session replaced old first
// (session.NoteReplaced), which her end follows once it has written its
// own mark (session.EndWith), and reads that mark once old is revoked
// (afterTheMove); an old her end had marked when this came to it, after
// the sign-in that made sid began, ends sid too (endedBeforeTheMove).
//
// Any old this realm signed that is live ends, whoever's it is: on a
// shared computer the last user's session ends with the next sign-in.
// One not this realm's, expired, or already ended costs a read at most
// and is told nowhere. An end is audited as session_replaced (as a
// sign-out is as signed_out), under old's user, with the invites it ended
// (invites_ended, where any). A store failure is answered (the caller
// logs it): the new session stands, and old lives until it expires.
func (e Ends) EndReplaced(ctx context.Context, old, user, sid string) (Replacement, error) {
	var out Replacement
	if old == "" {
		return out, nil
	}
	cl, err := e.Sessions.Verify(old)
	if err != nil || cl.SID == "" || cl.SID == sid {
		return out, nil
	}
	if live, err := e.Sessions.Live(ctx, cl); err != nil || !live {
		if err == nil && cl.Subject == user {
			out.Minted = e.endedBeforeTheMove(ctx, user, cl.SID, sid)
		}
		return out, err
	}
	var minted session.MintedEnd
	if cl.Subject == user {
		// What old became, first: an admin's end of old from then on
		// ends sid too (session.EndWith follows it).
		err = session.NoteReplaced(ctx, e.Store, e.Realm, cl.SID, cl.ExpiresAt.Time, sid, e.Now())
		if err == nil {
			err = session.MoveMinted(ctx, e.Store, e.Realm, user, cl.SID, sid, e.Now())
		}
	} else {
		minted, err = e.endMinted(ctx, cl.Subject, session.MintedIn(cl.SID, ""))
	}
	if err != nil {
		return out, err
	}
	ended, err := e.Sessions.Revoke(ctx, old, cl)
	if err != nil {
		out.Minted = minted
		return out, err
	}
	if cl.Subject == user {
		minted = e.afterTheMove(ctx, user, cl.SID, sid)
	}
	out.Minted = minted
	if !ended {
		return out, nil
	}
	out.User, out.SID = cl.Subject, cl.SID
	e.audit("session_replaced", out.User, append([]zap.Field{zap.String("session", ShortSID(out.SID))}, MintedFields(out.Minted)...)...)
	return out, nil
}

// afterTheMove is what a same-user replacement does once old (oldSID) is
// revoked (logout39, close17 Left 1): it moves old's invites to sid again,
// for a mint in flight in old that wrote its entry after the first move
// and passed its Live check before the revocation (its link handed out,
// named by old); one written after this move finds old revoked and is
// refused its link. Then, where an admin ended old meanwhile (review39
// R1: her end, written before it read which session replaced old, may
// have read it before this replacement wrote it), sid ends as her end
// would have ended it, with what moved (endFollowing); where she ended
// sid meanwhile (her end revokes it before it reads the index, so one
// that read it before a move ended nothing the move brought), what moved
// ends with it, as her end would have ended it (a sign-out's ends no
// invite), told in what it returns. A failure is logged, not answered
// (a failed move, and the ends go on): old has ended, and an entry naming
// it is a signed-out session's, listed and ended by it (SignedOut), one
// naming sid is listed by sid.
func (e Ends) afterTheMove(ctx context.Context, user, oldSID, sid string) session.MintedEnd {
	if err := session.MoveMinted(ctx, e.Store, e.Realm, user, oldSID, sid, e.Now()); err != nil {
		e.log().Warn("moving the invites a replaced session minted as it ended to the new session; the console lists them by the old one", zap.Error(err))
	}
	oldByEnd, _, err := session.EndedItself(ctx, e.Store, e.Realm, oldSID)
	if err != nil {
		e.log().Warn("reading whether the replaced session was ended by an admin as it was replaced; the new session stands", zap.Error(err))
	}
	if oldByEnd {
		if minted, followed := e.endFollowing(ctx, user, oldSID, sid); followed {
			return minted
		}
	}
	byEnd, err := session.EndedByAnEnd(ctx, e.Store, e.Realm, sid)
	if err != nil {
		e.log().Warn("reading whether the new session was ended as the replaced one's invites moved to it; the console lists them by it if it was", zap.Error(err))
	}
	if !byEnd {
		return session.MintedEnd{}
	}
	minted, err := e.endMinted(ctx, user, session.MintedIn(sid, ""))
	if err != nil {
		e.log().Warn("ending the invites moved to a new session an admin ended meanwhile; the console lists them by it", zap.Error(err))
	}
	return minted
}

// endedBeforeTheMove is a same-user replacement of a session old (oldSID)
// that had ended when it came to it: where an end (an admin's) ended old
// after the sign-in that made sid began (its index entry's BeganAt, in
// nanoseconds as the end's mark is: session.Began; its iat, whole
// seconds, in an entry of the previous release), the step-up raced her end, and sid ends as
// her end of old would have ended what old became (endFollowing,
// review39 R1; a step-up is no way out of an end made meanwhile); a
// sign-in that began after the end (the browser signing in again once
// ended) stands. An end of the release before (1) says no time
// (endrace41): taken as made after the sign-in began, as its mark found
// after the move is (afterTheMove: erring toward ending), unless this
// gate had read it in the log before then (session.Manager.KnewOfEndBefore:
// a gate that ran meanwhile knows; one started since, an upgrade, does
// not, and that browser signs in once more).
func (e Ends) endedBeforeTheMove(ctx context.Context, user, oldSID, sid string) session.MintedEnd {
	byEnd, at, err := session.EndedItself(ctx, e.Store, e.Realm, oldSID)
	if err != nil {
		e.log().Warn("reading whether the replaced session was ended by an admin as it was replaced; the new session stands", zap.Error(err))
	}
	if !byEnd {
		return session.MintedEnd{}
	}
	live, err := session.Sessions(ctx, e.Store, e.Realm, user, e.Now())
	if err != nil {
		e.log().Warn("reading the new session of a replaced session an admin ended; it stands", zap.Error(err))
	}
	i := slices.IndexFunc(live, func(s session.Info) bool { return s.SID == sid })
	if i < 0 {
		return session.MintedEnd{}
	}
	if began := live[i].BeganAt(); at.IsZero() && e.Sessions.KnewOfEndBefore(oldSID, began) || !at.IsZero() && began.After(at) {
		return session.MintedEnd{}
	}
	minted, _ := e.endFollowing(ctx, user, oldSID, sid)
	return minted
}

// endFollowing ends sid, which replaced oldSID, an admin ended, with its
// trust and its invites (session.EndWith, as EndSession does), audited as
// admin_sessions_end (session, replacing: oldSID, invites_ended); false
// where it was no longer listed (ended meanwhile), or failed (logged).
func (e Ends) endFollowing(ctx context.Context, user, oldSID, sid string) (session.MintedEnd, bool) {
	var minted session.MintedEnd
	_, err := session.EndWith(ctx, e.Store, e.Realm, user, sid, e.Now(), func(s session.Info) (err error) {
		m, err := e.endMinted(ctx, user, session.MintedIn(s.SID, s.Where.Trust))
		minted = addMinted(minted, m)
		return err
	})
	if err != nil {
		if !errors.Is(err, session.ErrNoSession) {
			e.log().Warn("ending the new session of a replaced session an admin ended as it was replaced; an end of either ends it", zap.Error(err))
		}
		return minted, false
	}
	e.audit("admin_sessions_end", user, append([]zap.Field{zap.String("session", ShortSID(sid)), zap.String("replacing", ShortSID(oldSID))}, countedFields(minted)...)...)
	return minted, true
}

// log is the Ends' logger, or none where it was given none (the admin's
// listing of signed-out sessions).
func (e Ends) log() *zap.Logger {
	if e.Logger == nil {
		return zap.NewNop()
	}
	return e.Logger
}
