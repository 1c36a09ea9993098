package pages

import (
	"context"
	"errors"

	"github.com/smsgate/caddy-smsgate/session"
	"go.uber.org/zap"
)

// signOut ends what this browser holds: its session, here and in the
// store, so that a copy of the cookie stops working too; and its trust,
// which would sign it in again at the next visit without a code (with a
// login form, without anything at all): "Sign out" on a shared computer
// leaves nobody signed in there. It clears their cookies and the flow's.
// signedIn says a session was ended; not ok when the store could not do
// it (answered 503).
//
// The trust the session came from ends too: another gate of the realm
// (a route's own pages under its own path_prefix, another host under
// cookie_domain) keeps its trust cookie where this gate's pages never see
// it, and would sign the browser in again at once.
func (p *Pages) signOut(req *request) (signedIn, ok bool) {
	ctx := req.r.Context()
	if c, err := req.r.Cookie(SessionCookie); err == nil {
		if cl, err := p.Sessions.Verify(c.Value); err == nil {
			signedIn = true
			// Its trust before it: a retry after a failure between the two
			// finds the session (a listing leaves an ended one out) and so
			// the trust again.
			came, err := p.trustOfSession(ctx, cl)
			if err == nil && came != "" {
				if err = p.Sessions.Untrust(ctx, cl.Subject, came); err == nil {
					p.Audit("browser_untrusted", cl.Subject, "")
				}
			}
			if err == nil {
				var ended bool
				if ended, err = p.Sessions.Revoke(ctx, c.Value, cl); err == nil && ended {
					p.Audit("signed_out", cl.Subject, "")
				}
			}
			if err != nil {
				p.Logger.Error("revoking session", zap.Error(err))
				p.unavailable(req)
				return signedIn, false
			}
		}
	}
	owner, tb, err := p.browserTrust(req)
	if err == nil && tb != nil {
		if err = p.Sessions.Untrust(ctx, owner, tb.ID); err == nil {
			p.Audit("browser_untrusted", owner, "")
		}
	}
	if err != nil && !errors.Is(err, session.ErrNotTrusted) {
		p.Logger.Error("ending a trusted browser", zap.Error(err))
		p.unavailable(req)
		return signedIn, false
	}
	p.setSessionCookie(req.w, req.r, "", -1)
	setCookie(req.w, req.r, TrustCookie, "", p.PathPrefix, -1)
	setCookie(req.w, req.r, FlowCookie, "", p.PathPrefix, -1)
	return signedIn, true
}

// trustOfSession is the ID of the trust the session cl names (the one it
// was signed in with, or held when it was), "" for none: read from the
// user's index of sessions before the session ends (a listing leaves the
// ended out).
func (p *Pages) trustOfSession(ctx context.Context, cl *session.Claims) (string, error) {
	list, err := session.Sessions(ctx, p.Store, p.Realm, cl.Subject, p.Now())
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
