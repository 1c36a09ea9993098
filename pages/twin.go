package pages

import (
	"errors"
	"html"
	"html/template"
	"net/http"
	"strings"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/audit"
	"github.com/smsgate/caddy-smsgate/internal/textsafe"
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
		p.page(req, http.StatusForbidden, "enroll", pageData{Twin: true, TwinWho: p.whoLine(req),
			Claimed: errors.Is(err, signin.ErrTwinClaimed), Error: p.say(req, err)})
	default:
		p.Logger.Error("reading enrolled names", audit.User(req.user), zap.Error(err))
		p.unavailable(req)
	}
	return true
}

// twinAtCompletion is the twin's page (as twinRefused shows it) for a
// first phone's right code refused because a case twin of her name got a
// phone since her code was sent (signin.ErrCaseTwin at completion), or is
// getting one now (ErrTwinClaimed): who she is signed in as, what is true
// for her — her code was right, and her administrator must sort out the
// two accounts (walk33, 65: "Sign in with that account's exact name", told
// to alice herself, with no way on but "Not you?") — and Sign out. ok is
// false for any other refusal.
func (p *Pages) twinAtCompletion(req *request, err error) (_ pageData, ok bool) {
	switch {
	case errors.Is(err, signin.ErrCaseTwin):
		return pageData{Twin: true, TwinWho: p.whoLine(req), Error: p.sayID(req, "enroll.case_twin_late")}, true
	case errors.Is(err, signin.ErrTwinClaimed):
		return pageData{Twin: true, Claimed: true, TwinWho: p.whoLine(req), Error: p.say(req, err)}, true
	}
	return pageData{}, false
}

// whoLine is "You are signed in as {name}." on the twin's page, her name
// in a <code> that keeps its spaces (code.name: white-space: pre-wrap, its
// edges drawn) with any hidden character escaped (textsafe): names are
// compared as a directory compares them (RFC 4518: case, spacing,
// invisible characters), and a sentence's HTML showed "mary  smith" as
// "mary smith" (walk34's 43). The other account's name is not shown: the
// page says no more of it than the refusal does.
func (p *Pages) whoLine(req *request) template.HTML {
	before, after, _ := strings.Cut(p.Words.T(req.lang, "You are signed in as {name}."), "{name}")
	return template.HTML(html.EscapeString(before) + `<code class="name">` + html.EscapeString(textsafe.Escape(req.user)) + `</code>` + html.EscapeString(after))
}
