package pages

import (
	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/signin"
)

// untrust is the devices page's "Stop trusting" of the browser trust:
// signin decides what ends with it (signin.Ends.EndTrust: its sessions,
// the console invites minted in them, audited), and the page renders it:
// this browser, signed out where its session came from it or made it. It
// reports whether the page is still hers to show (false: answered
// already).
func (p *Pages) untrust(req *request, cl *session.Claims, trust string) bool {
	ended, err := p.ends(req).EndTrust(req.r.Context(), cl.Subject, trust)
	if err != nil {
		p.Logger.Error("ending a trusted browser", zap.Error(err))
		p.unavailable(req)
		return false
	}
	if ended.Trust && cl.Trust != nil && *cl.Trust == trust {
		p.setCookie(req.w, req.r, TrustCookie, "", p.PathPrefix, -1)
		p.signedOutHere(req, pageData{Why: p.sayID(req, "devices.signed_out_untrusted")})
		return false
	}
	return true
}

// ends is signin's ends of a user's sessions and trusts in req's realm.
func (p *Pages) ends(req *request) signin.Ends {
	return signin.Ends{Store: p.Store, Realm: req.realm, Now: p.Now, Logger: p.Logger, Audit: p.Audit, Sessions: p.Sessions}
}
