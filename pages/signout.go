package pages

import (
	"slices"

	"github.com/smsgate/caddy-smsgate/session"
	"go.uber.org/zap"
)

// signOut ends what this browser holds: its sessions of the realm under
// each of its names (heldSessions), here and in the store, so that a
// copy of the cookie stops working too; and its trusts, which would sign
// it in again at the next visit without a code (with a login form,
// without anything at all): "Sign out" on a shared computer leaves
// nobody signed in there. It clears their cookies and the flow's.
// signedIn says a session was ended; not ok when the store could not do
// it (answered 503).
//
// The trusts that end are the one this gate's trust cookie holds, the one
// the session came from, and every other one this browser earned (named
// by its known-browser cookie, which every gate of the realm sees):
// another gate of the realm (a route's own pages under its own
// path_prefix, another host under cookie_domain) keeps its trust cookie
// where this gate's pages never see it, and would sign the browser in
// again at once. Each ends only while the cookie that names it is still
// the browser's (session.Manager.HeldTrust, TrustOfSession, KnownBrowser):
// a copy of a cookie the browser gave up signs nobody out. The user's
// other browsers keep theirs.
func (p *Pages) signOut(req *request) (signedIn, ok bool) {
	ctx := req.r.Context()
	// Whose trusts end, and which by their IDs.
	ends := map[string][]string{}
	// Every known-browser cookie the request carries, not only the newest
	// (newest): one another host of the domain planted beside this
	// browser's own (a longer Path, Domain=) must not hide the name the
	// browser's trusts carry.
	var browsers []string
	for _, known := range req.knowns {
		browser, err := p.Sessions.KnownBrowser(ctx, known)
		if err != nil {
			p.Logger.Error("signing out: reading whether this browser's known-browser cookie still counts", zap.Error(err))
			p.unavailable(req)
			return false, false
		}
		if browser == "" {
			continue
		}
		if !slices.Contains(browsers, browser) {
			browsers = append(browsers, browser)
		}
		if _, ok := ends[known.Subject]; !ok {
			ends[known.Subject] = nil
		}
	}
	held := p.heldSessions(req)
	for _, h := range held {
		signedIn = true
		came, err := p.Sessions.TrustOfSession(ctx, h.cl)
		if err != nil {
			p.Logger.Error("signing out: reading whether the session is live, or the user's list of sessions, for the trust the session came from", zap.Error(err))
			p.unavailable(req)
			return signedIn, false
		}
		ends[h.cl.Subject] = append(ends[h.cl.Subject], came)
	}
	if tc, err := req.r.Cookie(TrustCookie); err == nil {
		owner, id, err := p.Sessions.HeldTrust(ctx, tc.Value)
		if err != nil {
			p.Logger.Error("signing out: reading whether this browser's trust stands", zap.Error(err))
			p.unavailable(req)
			return signedIn, false
		}
		ends[owner] = append(ends[owner], id)
	}
	delete(ends, "")
	// The trusts before the session: a retry after a failure between them
	// still finds the session (and, for a session of the release before,
	// the trust its listing names: a listing leaves an ended one out).
	for user, ids := range ends {
		if ids = slices.DeleteFunc(ids, func(id string) bool { return id == "" }); len(browsers) == 0 && len(ids) == 0 {
			continue // nothing of theirs to end here
		}
		ended, err := p.Sessions.UntrustBrowser(ctx, user, browsers, ids...)
		if err != nil {
			p.Logger.Error("signing out: ending this browser's trusted sign-ins", zap.Error(err))
			p.unavailable(req)
			return signedIn, false
		}
		if len(ended) > 0 {
			p.Audit("browser_untrusted", user, "", zap.Int("trusts", len(ended)))
			// A copy of their cookies signed in elsewhere signs out too;
			// a sign-out reads no list of sessions otherwise, so one that
			// cannot be read leaves them (logged), and the sign-out goes on.
			var keep []string
			for _, h := range held {
				keep = append(keep, h.cl.SID)
			}
			if err := p.Sessions.EndCopies(ctx, user, ended, keep); err != nil {
				p.Logger.Error("signing out: ending the sessions copies of this browser's trusts signed in", zap.Error(err))
			}
		}
	}
	for _, h := range held {
		ended, err := p.Sessions.Revoke(ctx, h.token, h.cl)
		if err != nil {
			p.Logger.Error("signing out: revoking the session", zap.Error(err))
			p.unavailable(req)
			return signedIn, false
		}
		if ended {
			p.Audit("signed_out", h.cl.Subject, "")
		}
		p.expireShared(req.w, req.r, h.name)
	}
	p.setSiteCookie(req.w, req.r, SessionCookie, "", -1)
	p.setCookie(req.w, req.r, TrustCookie, "", p.PathPrefix, -1)
	p.setCookie(req.w, req.r, FlowCookie, "", p.PathPrefix, -1)
	return signedIn, true
}

// heldSession is a session cookie of the realm a sign-out ends: its name,
// token and verified claims.
type heldSession struct {
	name, token string
	cl          *session.Claims
}

// heldSessions is every session of this realm the request's cookies hold,
// under any of its names (cookieNames): its own, and the shared ones a
// release before or a gate of the realm that keeps them wrote. One under
// the shared name that counts (OldSession) lives beside the one under its
// own: a sign-out ending the first it finds only would leave the browser
// signed in by the other at its next request.
func (p *Pages) heldSessions(req *request) []heldSession {
	var held []heldSession
	for i, c := range cookiesUnder(req.r, p.names.session) {
		cl, err := p.Sessions.Verify(c.Value)
		if err != nil {
			continue
		}
		if i > 0 && p.OldSession(nil, req.r, c.Name, c.Value, cl) == nil {
			continue // planted under the old name: not this browser's
		}
		if !slices.ContainsFunc(held, func(h heldSession) bool { return h.cl.SID == cl.SID }) {
			held = append(held, heldSession{c.Name, c.Value, cl})
		}
	}
	return held
}
