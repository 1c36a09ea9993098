package pages

import "net/http"

// logout signs this browser out (signOut: its session and its trust). A
// GET shows a confirmation form: a link or an image must not be able to
// sign anyone out.
func (p *Pages) logout(req *request) {
	if req.r.Method == http.MethodGet {
		// Cancel: back to the site, signed in; a sign-in in progress
		// ("Not you?") goes back to its code step.
		back := p.PathPrefix + "verify"
		if p.session(req) != nil {
			back = "/"
		}
		p.page(req, http.StatusOK, "logout", pageData{Cancel: back})
		return
	}
	signedIn, ok := p.signOut(req)
	if !ok {
		return
	}
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
