package pages

import (
	"net/http"

	"go.uber.org/zap"
)

// invite serves the link an admin minted for a new user: a GET shows a
// button (link scanners that fetch the page do not burn the invite); the
// POST consumes it and starts the enrollment of that user.
func (p *Pages) invite(req *request) {
	ctx := req.r.Context()
	if req.r.Method == http.MethodGet {
		// The link's token is in this page's address: the requests it
		// leads to (its POST, the pages that follow) send the site's
		// origin as their Referer, not the address, so that an access log
		// that writes Referer holds no token (the Origin header is kept,
		// as no-referrer would not).
		req.w.Header().Set("Referrer-Policy", "strict-origin")
		token := req.r.URL.Query().Get("token")
		if _, err := p.SignIn.InviteFor(ctx, req.realm, token, req.user); err != nil {
			p.inviteFailed(req, err)
			return
		}
		p.page(req, http.StatusOK, "invite", pageData{Token: token})
		return
	}
	step, err := p.SignIn.AcceptInvite(ctx, req.realm, &req.flow.Flow, req.form["token"], req.user)
	if err != nil {
		p.inviteFailed(req, err)
		return
	}
	req.user = req.flow.User
	p.goTo(req, step)
}

// inviteFailed answers an invite that cannot be used: a dead or foreign
// link with its words, a store that cannot answer with 503.
func (p *Pages) inviteFailed(req *request, err error) {
	o := refuse(err)
	if !o.known() {
		p.Logger.Error("reading an invite", zap.Error(err))
		p.unavailable(req)
		return
	}
	p.fail(req, o.status, "bad_invite", p.say(req, err))
}
