package session

import (
	"context"
	"errors"
	"slices"
)

// What a sign-out in a browser ends of its trusts, besides those its
// known-browser cookies name (UntrustBrowser): the trust its trust cookie
// holds (HeldTrust) and the one each of its sessions came from or held
// (TrustOfSession). Each only where the cookie is still good: a copy of a
// cookie the browser gave up (its trust cookie before a re-trust, which
// keeps the trust's ID; its session cookie before a sign-in ended that
// session) signs nobody in, and must not sign its owner out either, nor
// end the trust she renewed since (attack38b F1). Before, a signature was
// enough.

// HeldTrust is the user and ID of the trust whose token a sign-out's
// browser holds, if the store still accepts that token (Trusted: not the
// trust's token before a re-trust, nor one of a trust ended), "" for
// none; a trust not trusted here only because this gate is not given the
// number that earned it (ErrNumberNotGiven) is its browser's all the same,
// and ends. err is the store's.
func (m *Manager) HeldTrust(ctx context.Context, token string) (user, id string, err error) {
	user, tb, err := m.Trusted(ctx, token)
	switch {
	case err == nil:
		return user, tb.ID, nil
	case errors.Is(err, ErrNumberNotGiven):
		cl, _ := m.trustClaims(token) // Trusted read it: good
		return cl.Subject, cl.SID, nil
	case errors.Is(err, ErrNotTrusted):
		return "", "", nil
	}
	return "", "", err
}

// TrustOfSession is the ID of the trust the session cl (signature
// verified) names, the one it was signed in with or held when it was, ""
// for none or for a session no longer live (Live: replaced, signed out,
// ended): its claim, or, for a session of the release before it, read
// from the user's index of sessions before the session ends (a listing
// leaves the ended out). A sign-out asks it before it ends the session:
// its next try after a fault between the two finds the trusts ended
// already. err is the store's.
func (m *Manager) TrustOfSession(ctx context.Context, cl *Claims) (string, error) {
	if live, err := m.Live(ctx, cl); err != nil || !live {
		return "", err
	}
	if cl.Trust != nil {
		return *cl.Trust, nil
	}
	list, err := Sessions(ctx, m.store, m.realm, cl.Subject, m.now())
	if err != nil {
		return "", err
	}
	for _, s := range list {
		if s.SID == cl.SID {
			return s.Where.Trust, nil
		}
	}
	return "", nil
}

// KnownBrowser is the browser a sign-out's known-browser cookie cl
// (signature verified) names (Claims.Browser), whose trusts at every gate
// of the realm the sign-out ends (UntrustBrowser), or "" where the cookie
// is one its browser gave up, which signs nobody out (attack39 F1): the
// browser ID carries into each new known-browser cookie, so a copy of an
// earlier one (a thief's) would end the trusts its owner earned since,
// and every session they signed in, for the cookie's 400 days, past a
// step-up, a revoke, a reset or a sign-out everywhere. A cookie counts
// only while its browser is still known by it (StillKnown: no reset,
// revoke or sign-out everywhere since, its session, trust and device not
// ended by the admin, within the store's epoch) and the session it names
// is live here (Live: not replaced by a later sign-in in that browser,
// nor signed out; and within this gate's session lifetime from its
// issue, or, past it, still on her list of live sessions, as one signed
// at a gate of the realm with a longer lifetime is): each sign-in writes the browser a new cookie naming its new
// session, so the cookie a browser holds names its newest. One from
// before the cookie named its session or its trust counts no more
// (knownUser does not take it either). A browser whose last session has
// expired signs out of the trusts its cookies here hold (HeldTrust), not
// of those it earned at other gates of the realm: its next sign-in there
// writes it a cookie that counts again. err is the store's.
func (m *Manager) KnownBrowser(ctx context.Context, cl *Claims) (string, error) {
	if cl.Browser == "" || cl.SID == "" || cl.Trust == nil || cl.IssuedAt == nil {
		return "", nil
	}
	if !m.now().Before(cl.IssuedAt.Add(m.lifetime)) {
		// Past this gate's lifetime, its session may be a longer gate's of
		// the realm (review39 R3): it counts while on her list of live
		// sessions, each there until its own expiry.
		live, err := Sessions(ctx, m.store, m.realm, cl.Subject, m.now())
		if err != nil || !slices.ContainsFunc(live, func(s Info) bool { return s.SID == cl.SID }) {
			return "", err
		}
	}
	known, err := StillKnown(ctx, m.store, m.realm, cl.Subject, cl.SID, *cl.Trust, cl.DeviceID(), cl.IssuedAt.Time)
	if err != nil || !known {
		return "", err
	}
	if live, err := m.Live(ctx, cl); err != nil || !live {
		return "", err
	}
	return cl.Browser, nil
}
