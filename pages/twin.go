package pages

import (
	"errors"
	"net/http"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/audit"
	"github.com/smsgate/caddy-smsgate/signin"
)

// twinRefused shows, in place of the enroll form, the page of a name
// whose own first enrollment is refused (signin.TwinRefusal): who she
// is signed in as, the refusal's words (no more than the POST's say),
// and what she can do: ask the admin, sign out, or (a twin being set
// up) try again in a few minutes. Nothing is sent. It reports whether
// it answered.
func (p *Pages) twinRefused(req *request) bool {
	err := p.SignIn.TwinRefusal(req.r.Context(), req.realm, &req.flow.Flow, req.user)
	switch {
	case err == nil:
		return false
	case errors.Is(err, signin.ErrCaseTwin) || errors.Is(err, signin.ErrTwinClaimed):
		p.page(req, http.StatusForbidden, "enroll", pageData{Twin: true, Who: req.user,
			Claimed: errors.Is(err, signin.ErrTwinClaimed), Error: p.say(req, err)})
	default:
		p.Logger.Error("reading enrolled names", audit.User(req.user), zap.Error(err))
		p.unavailable(req)
	}
	return true
}
