package pages

import (
	"net/http"

	"go.uber.org/zap"
)

// logout ends the session here and in the store, so that a copy of the
// cookie stops working too. A GET shows a confirmation form: a link or an
// image must not be able to sign anyone out.
func (p *Pages) logout(req *request) {
	if req.r.Method == http.MethodGet {
		p.page(req, http.StatusOK, "logout", pageData{})
		return
	}
	signedIn := false
	if c, err := req.r.Cookie(SessionCookie); err == nil {
		if cl, err := p.Sessions.Verify(c.Value); err == nil {
			signedIn = true
			ended, err := p.Sessions.Revoke(req.r.Context(), c.Value, cl)
			if err != nil {
				p.Logger.Error("revoking session", zap.Error(err))
				p.unavailable(req)
				return
			}
			if ended {
				p.Audit("signed_out", cl.Subject, "")
			}
		}
	}
	p.setSessionCookie(req.w, req.r, "", -1)
	setCookie(req.w, req.r, FlowCookie, "", p.PathPrefix, -1)
	rd := req.flow.RD
	if !signedIn {
		// "Not you?": a sign-in cancelled before it ended does not go on
		// to where it was heading (the gate would only ask again).
		rd = ""
	}
	if req.json {
		WriteJSON(req.w, http.StatusOK, map[string]string{"status": "signed_out", "redirect": rd})
		return
	}
	if rd != "" {
		http.Redirect(req.w, req.r, rd, http.StatusSeeOther)
		return
	}
	p.pageNoFlow(req, http.StatusOK, "signed_out", pageData{})
}
