package pages

import (
	"errors"
	"net/http"
	"strings"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/signin"
	"go.uber.org/zap"
)

// Passkeys' ceremonies: the page's script (assets/smsgate.js) asks
// <prefix>passkey/<register|login>/begin for the options, has the browser
// make or use the passkey, and posts its answer to …/finish. All four are
// JSON POSTs that must come from this site's exact Origin, inside a flow.

// passkey serves the four ceremony endpoints.
func (p *Pages) passkey(req *request, step string) {
	req.json = true
	r := req.r
	switch {
	case r.Method != http.MethodPost:
		req.w.Header().Set("Allow", "POST")
		p.fail(req, http.StatusMethodNotAllowed, "method_not_allowed", p.sayID(req, "gate.method_post")) // POST only: "Use GET or POST." was untrue here
		return
	case !strings.EqualFold(r.Header.Get("Origin"), p.publicOrigin(r)):
		p.fail(req, http.StatusForbidden, "bad_origin", p.sayID(req, "gate.bad_origin"))
		return
	case req.flow.IssuedAt == nil || req.flow.Flow.ID == "":
		p.fail(req, http.StatusForbidden, "bad_csrf", p.sayID(req, "gate.bad_csrf"))
		return
	case !p.Passkeys:
		p.fail(req, http.StatusNotFound, "not_found", p.sayID(req, "gate.not_found"))
		return
	}
	r.Body = http.MaxBytesReader(req.w, r.Body, MaxBody)
	ctx := r.Context()
	switch step {
	case "passkey/register/begin", "passkey/register/finish":
		// Adding one is a device change: a session, and a fresh code.
		cl := p.session(req)
		if cl == nil || !p.SignIn.Identity.Admits(cl.Subject, req.user) || !p.freshForChange(cl) {
			p.fail(req, http.StatusForbidden, "step_up", p.sayID(req, "passkey.step_up"))
			return
		}
		// A user who holds an app proves it or a passkey to add a passkey;
		// one who holds a passkey, a passkey.
		if need, ok, _ := p.strongChange(req, cl.Subject, "passkey"); !ok {
			return
		} else if !need.provedBy(cl) {
			p.fail(req, http.StatusForbidden, "step_up", p.sayID(req, "passkey.step_up"))
			return
		}
		if step == "passkey/register/begin" {
			creation, err := p.SignIn.BeginPasskey(ctx, req.realm, cl.Subject, &req.flow.Flow)
			if p.passkeyFailed(req, err) {
				return
			}
			p.saveFlow(req)
			WriteJSON(req.w, http.StatusOK, creation)
			return
		}
		added := p.SignIn.AddingFrom(ctx, req.realm, cl)
		err := p.SignIn.FinishPasskey(added, req.scope, cl.Subject, &req.flow.Flow, created(r), r.URL.Query().Get("name"), p.live(cl))
		if errors.Is(err, signin.ErrEnded) { // a reset or a sign-out everywhere came first
			p.fail(req, http.StatusForbidden, "step_up", p.sayID(req, "passkey.step_up"))
			return
		}
		if p.passkeyFailed(req, err) {
			return
		}
		req.flow.Notice = "devices.passkey_added"
		p.saveFlow(req)
		WriteJSON(req.w, http.StatusOK, map[string]string{"status": "added", "redirect": p.PathPrefix + "devices"})
	case "passkey/login/begin", "passkey/login/finish":
		if !p.offers(req, factor.WebAuthn) {
			p.fail(req, http.StatusBadRequest, "not_taken", p.requiredWords(req))
			return
		}
		p.passkeyLogin(req, step)
	default:
		p.fail(req, http.StatusNotFound, "not_found", p.sayID(req, "gate.not_found"))
	}
}

// passkeyLogin serves a sign-in's two halves.
func (p *Pages) passkeyLogin(req *request, step string) {
	ctx, r := req.r.Context(), req.r
	switch step {
	case "passkey/login/begin":
		if !p.admitStranger(req, p.passkeyUser(req), true, func(err error) { p.passkeyFailed(req, err) }) {
			return
		}
		assertion, err := p.SignIn.BeginPasskeyLogin(ctx, req.realm, p.passkeyUser(req), &req.flow.Flow)
		if p.passkeyFailed(req, err) {
			return
		}
		p.saveFlow(req)
		WriteJSON(req.w, http.StatusOK, assertion)
	case "passkey/login/finish":
		res, err := p.SignIn.FinishPasskeyLogin(ctx, req.scope, p.passkeyUser(req), &req.flow.Flow, asserted(r))
		if p.passkeyFailed(req, err) {
			return
		}
		p.Metrics.Verifications.WithLabelValues(factor.Passkey.Name()).Inc()
		if p.bornEnded(req, res.User) { // its user known only now: its challenge spent, no code
			return
		}
		p.signedIn(req, res)
	default:
		p.fail(req, http.StatusNotFound, "not_found", p.sayID(req, "gate.not_found"))
	}
}

// created and asserted read the browser's answer to a ceremony here, at
// the HTTP edge: the sign-in gets it parsed, or nil when it does not parse
// (refused as a wrong answer is, the ceremony spent).
func created(r *http.Request) *protocol.ParsedCredentialCreationData {
	answer, err := protocol.ParseCredentialCreationResponseBody(r.Body)
	if err != nil {
		return nil
	}
	return answer
}

func asserted(r *http.Request) *protocol.ParsedCredentialAssertionData {
	answer, err := protocol.ParseCredentialRequestResponseBody(r.Body)
	if err != nil {
		return nil
	}
	return answer
}

// passkeyUser is whose passkey a sign-in asks for: the first factor's
// user, or — with a login form — anyone's (a discoverable passkey names
// its user), so that the answer never tells whether a typed name has one.
func (p *Pages) passkeyUser(req *request) string {
	if p.SignIn.Identity.NamesThemselves() {
		return ""
	}
	return req.user
}

// passkeyFailed answers err, if any: the sign-in's own errors with their
// words, faults with a 503 (and the log).
func (p *Pages) passkeyFailed(req *request, err error) bool {
	if err == nil {
		return false
	}
	o := refuse(err)
	if !o.known() {
		p.Logger.Error("a passkey ceremony", zap.Error(err))
		p.unavailable(req)
		return true
	}
	o.setRetryAfter(req.w)
	p.Metrics.Verifications.WithLabelValues(o.Reason).Inc()
	p.fail(req, o.status, o.Reason, p.say(req, err))
	return true
}
