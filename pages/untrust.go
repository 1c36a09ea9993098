package pages

import (
	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/signin"
)

// untrust is the devices page's "Stop trusting" of the browser trust: its
// sessions end with it (a thief's browser is signed out), this browser's
// too, where its session came from it or made it; and so do the console
// invites she minted, as an admin, in a session of it (attack37 F2: the
// thief's link outlived his browser's trust), as the console's end of a
// session does (session.MintedIn), audited (invites_ended). It reports
// whether the page is still hers to show (false: answered already).
func (p *Pages) untrust(req *request, cl *session.Claims, trust string) bool {
	ctx, user := req.r.Context(), cl.Subject
	ended, err := p.Sessions.EndTrust(ctx, user, trust)
	var minted session.MintedEnd
	if err == nil && trust != "" {
		// Asked again after a failure, the trust is gone and ended false:
		// its invites end all the same (only hers, of a trust of hers).
		minted, err = session.EndMintedOf(ctx, p.Store, req.realm, user, p.Now(), p.Logger, session.MintedIn("", trust))
	}
	if err != nil {
		p.Logger.Error("ending a trusted browser", zap.Error(err))
		p.unavailable(req)
		return false
	}
	p.Audit("browser_untrusted", user, "", signin.MintedFields(minted)...)
	if ended && cl.Trust != nil && *cl.Trust == trust {
		p.setCookie(req.w, req.r, TrustCookie, "", p.PathPrefix, -1)
		p.signedOutHere(req, pageData{Why: p.sayID(req, "devices.signed_out_untrusted")})
		return false
	}
	return true
}
