package pages

import (
	"net/http"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/signin"
	"github.com/smsgate/caddy-smsgate/words"
)

// New recovery codes are shown at /.smsgate/recovery until the user says
// they saved them: a phone that reloads the tab shows the same codes
// again. Until then they wait sealed (AES-GCM) in the flow cookie of this
// browser, never in clear and never in the store (which keeps only their
// HMACs).

// newCodes are recovery codes waiting for "I have saved these".
type newCodes struct {
	User  string   `json:"u"`
	Codes []string `json:"c"`
	Next  string   `json:"n"`
}

// showCodes keeps user's new codes in a fresh flow and sends the browser
// to the page that shows them, then on to next.
func (p *Pages) showCodes(req *request, user string, codes []string, next string) {
	req.flow = &flowClaims{CSRF: enrollment.RandomID(), Flow: signin.Flow{ID: enrollment.RandomID()},
		Codes: &newCodes{User: user, Codes: codes, Next: next}}
	p.saveFlow(req)
	http.Redirect(req.w, req.r, p.PathPrefix+"recovery", http.StatusSeeOther)
}

// recovery shows the codes kept for the signed-in user (GET), or forgets
// them once the user says they are saved (POST) and goes on.
func (p *Pages) recovery(req *request) {
	nc := req.flow.Codes
	cl := p.session(req)
	if nc == nil || cl == nil || cl.Subject != nc.User {
		// Nothing to show (saved already, or the flow ran out): new codes
		// can be made on the devices page.
		http.Redirect(req.w, req.r, p.PathPrefix+"devices", http.StatusSeeOther)
		return
	}
	if req.r.Method == http.MethodGet {
		// The site as the texts name it (signin's Site: site_name, else
		// the host as people write it, not its xn-- form).
		p.page(req, http.StatusOK, "recovery", pageData{Recovery: nc.Codes, Next: nc.Next,
			CodesFor: p.Words.Render(req.lang, words.Text{ID: "recovery.file", Args: map[string]any{"user": nc.User, "site": p.SignIn.Site, "date": p.Now().Format(p.sayID(req, "date.format"))}})})
		return
	}
	p.setCookie(req.w, req.r, FlowCookie, "", p.PathPrefix, -1)
	http.Redirect(req.w, req.r, nc.Next, http.StatusSeeOther)
}

// recoveryLeft counts user's unused recovery codes for the pages:
// -1 when the store could not say (the page then says nothing of them,
// rather than "none left").
func (p *Pages) recoveryLeft(req *request, user string) int {
	n, _ := p.recoveryMade(req, user)
	return n
}

// recoveryMade is recoveryLeft, and whether she holds a set at all: with
// none, the page says "You have no recovery codes yet", not "none left".
func (p *Pages) recoveryMade(req *request, user string) (int, bool) {
	n, made, err := p.SignIn.RecoveryMade(req.r.Context(), req.realm, user)
	if err != nil {
		p.Logger.Error("counting recovery codes", zap.Error(err))
		return -1, true
	}
	return n, made
}

// withCodes is d with the count of user's recovery codes: how many are
// left, or that she never held any.
func (p *Pages) withCodes(req *request, user string, d pageData) pageData {
	made := false
	d.RecoveryLeft, made = p.recoveryMade(req, user)
	d.NoRecoveryYet = !made
	return d
}
