package pages

import (
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
func (p *Pages) signOut(req *request) (signedIn, ok bool) {
	ctx := req.r.Context()
	if c, err := req.r.Cookie(SessionCookie); err == nil {
		if cl, err := p.Sessions.Verify(c.Value); err == nil {
			signedIn = true
			ended, err := p.Sessions.Revoke(ctx, c.Value, cl)
			if err != nil {
				p.Logger.Error("revoking session", zap.Error(err))
				p.unavailable(req)
				return signedIn, false
			}
			if ended {
				p.Audit("signed_out", cl.Subject, "")
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
