package caddymodule

// The gate's steps — login, enroll, verify, logout, invite — each a page
// (GET) and an action (POST). The sign-in itself is package signin; these
// read the form, call it, and render what it answers.

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/providers"
	"github.com/smsgate/caddy-smsgate/signin"
	"github.com/smsgate/caddy-smsgate/words"
)

// login identifies the user (identity "none"), or, with a first factor,
// sends them on to the right step.
func (g *Gate) login(req *request) {
	if !g.signin.Identity.NamesThemselves() {
		g.next(req)
		return
	}
	if req.r.Method == http.MethodGet {
		req.flow.User, req.flow.Challenge, req.flow.LimitKey = "", "", ""
		g.page(req, http.StatusOK, "login", pageData{})
		return
	}
	if !g.offersTexts(req) {
		// This gate takes no texted codes: name the user, send nothing.
		if err := g.signin.Name(req.r.Context(), req.scope, &req.flow.Flow, req.form["username"], req.region); err != nil {
			if errors.Is(err, signin.ErrName) {
				g.page(req, http.StatusBadRequest, "login", pageData{Error: g.say(req, err)})
				return
			}
			g.sendFailed(req, err, "login") // the IP's limit
			return
		}
		req.user = req.flow.User
		g.goTo(req, signin.Verify)
		return
	}
	if !g.admitStranger(req, strings.TrimSpace(req.form["username"]), false, func(err error) { g.sendFailed(req, err, "login") }) {
		return
	}
	if _, err := g.signin.Login(req.r.Context(), req.scope, &req.flow.Flow, req.known, req.form["username"], req.region); err != nil {
		if errors.Is(err, signin.ErrName) {
			g.page(req, http.StatusBadRequest, "login", pageData{Error: g.say(req, err)})
			return
		}
		g.sendFailed(req, err, "login")
		return
	}
	req.user = req.flow.User
	g.goTo(req, signin.Verify)
}

// next sends the user to the step the sign-in says is next.
func (g *Gate) next(req *request) {
	step, err := g.signin.Next(req.r.Context(), req.realm, &req.flow.Flow, req.user)
	if err != nil {
		g.logger.Error("reading device", userField(req.user), zap.Error(err))
		g.unavailable(req)
		return
	}
	g.goTo(req, step)
}

// enroll takes a first phone number and sends it a code.
func (g *Gate) enroll(req *request) {
	step, err := g.signin.Next(req.r.Context(), req.realm, &req.flow.Flow, req.user)
	if err != nil || step != signin.Enroll {
		g.next(req)
		return
	}
	if g.enrollPaused(req) {
		return
	}
	if req.r.Method == http.MethodGet {
		g.page(req, http.StatusOK, "enroll", pageData{})
		return
	}
	input := req.form["phone"]
	if _, err := g.signin.Enroll(req.r.Context(), req.scope, &req.flow.Flow, req.user, input, req.region); err != nil {
		if errors.As(err, new(*signin.InputError)) {
			// A number that does not parse: say why, keep what was typed.
			g.page(req, http.StatusBadRequest, "enroll", pageData{Error: g.say(req, err), Phone: trimInput(input)})
			return
		}
		g.sendFailed(req, err, "enroll")
		return
	}
	g.goTo(req, signin.Verify)
}

// verify shows the code form, sends or resends a code (POST action "send",
// "call" or "resend"), and checks a code (field "code").
func (g *Gate) verify(req *request) {
	if req.user == "" && g.signin.Identity.NamesThemselves() {
		g.goTo(req, signin.Login)
		return
	}
	ctx := req.r.Context()
	c, err := g.signin.Pending(ctx, req.realm, &req.flow.Flow, req.user)
	if err != nil {
		g.logger.Error("reading challenge", zap.Error(err))
		g.unavailable(req)
		return
	}
	action := req.form["action"]
	if c == nil && !g.signin.Identity.NamesThemselves() && (req.r.Method == http.MethodGet || action != "") {
		// No code pending: only a user with a phone may ask for one here.
		if step, err := g.signin.Next(ctx, req.realm, &req.flow.Flow, req.user); err != nil || step != signin.Verify {
			g.next(req)
			return
		}
	}
	refused := false // a kind this gate does not take here
	if req.r.Method == http.MethodPost {
		_, recovery := enrollment.NormalizeRecovery(req.form["code"])
		switch {
		case action == "app":
			refused = !g.offers(req, "totp")
		case recovery && action == "":
			refused = !g.offersRecovery(req)
		default: // a texted code, or asking for one
			refused = !g.offersTexts(req)
		}
	}
	switch {
	case req.r.Method == http.MethodGet:
		g.page(req, http.StatusOK, "verify", g.verifyData(req, c, ""))
	case refused:
		// Not a kind this gate takes here: a clear no, and what it does take.
		g.page(req, http.StatusBadRequest, "verify", g.verifyData(req, nil, g.requiredWords(req)))
	case (action == "send" || action == "call" || action == "sms" || action == "resend") &&
		!g.admitStranger(req, req.user, false, func(err error) { g.sent(req, c, err) }):
		// refused: answered
	case action == "send", action == "call", action == "sms":
		channel := map[string]string{"send": g.Channels[0], "call": providers.Voice, "sms": providers.SMS}[action]
		req.scope.Undelivered = g.delivery(req, c) == "failed"
		_, err := g.signin.Send(ctx, req.scope, &req.flow.Flow, req.user, channel, c, req.form["device"], req.form["phone"])
		g.sent(req, c, err)
	case action == "resend":
		_, err := g.signin.Resend(ctx, req.scope, &req.flow.Flow, req.user, c)
		g.sent(req, c, err)
	case action == "app":
		g.checkApp(req, c)
	default:
		g.checkCode(req, c)
	}
}

// sent answers a request to send a code: on to the verify page, or why not.
func (g *Gate) sent(req *request, c *enrollment.Challenge, err error) {
	var step *signin.StepError
	var ask *signin.AskPhoneError
	switch {
	case err == nil:
		g.goTo(req, signin.Verify)
	case errors.As(err, &step):
		g.goTo(req, step.Step)
	case errors.As(err, &ask):
		g.page(req, http.StatusBadRequest, "verify", pageData{Error: g.say(req, err), AskPhone: true})
	case errors.Is(err, signin.ErrNoCalls), errors.Is(err, signin.ErrNoTexts):
		g.page(req, http.StatusBadRequest, "verify", g.verifyData(req, c, g.say(req, err)))
	default:
		g.sendFailed(req, err, "verify")
	}
}

// checkCode checks a submitted code (or recovery code) and, when it is
// right, starts a session.
func (g *Gate) checkCode(req *request, c *enrollment.Challenge) {
	firstPhone := c != nil && c.Purpose == enrollment.Enroll
	if firstPhone && g.enrollPaused(req) {
		return
	}
	res, err := g.signin.Check(req.r.Context(), req.scope, &req.flow.Flow, req.user, c, req.form["code"])
	if err == nil && firstPhone {
		g.sawUsers(req.r.Context())
	}
	_, recovery := enrollment.NormalizeRecovery(req.form["code"])
	g.checked(req, c, res, err, recovery)
}

// checkApp checks a code from the user's authenticator app. A pending
// texted code stays good beside it.
func (g *Gate) checkApp(req *request, c *enrollment.Challenge) {
	res, err := g.signin.CheckApp(req.r.Context(), req.scope, req.user, req.form["code"])
	d := pageData{}
	if err != nil {
		d = g.verifyData(req, c, g.say(req, err))
		d.AppError = true
	}
	g.answerCheck(req, res, err, d)
}

// checked answers the check of a texted or recovery code.
func (g *Gate) checked(req *request, c *enrollment.Challenge, res *signin.Result, err error, recovery bool) {
	d := pageData{}
	if err != nil {
		if o := outcomeOf(err); !recovery && o.reason != "wrong_code" && !errors.As(err, new(*signin.CodeFormatError)) {
			c = nil // the challenge is over: offer a new code
		}
		d = g.verifyData(req, c, g.say(req, err))
		d.RecoveryError = recovery
	}
	g.answerCheck(req, res, err, d)
}

// answerCheck signs the user in, or shows page d with why not.
func (g *Gate) answerCheck(req *request, res *signin.Result, err error, d pageData) {
	if err != nil {
		if errors.As(err, new(*signin.CodeFormatError)) {
			g.page(req, http.StatusBadRequest, "verify", d)
			return
		}
		o := outcomeOf(err)
		if !o.known {
			g.logger.Error("checking a code", zap.Error(err))
			g.unavailable(req)
			return
		}
		o.setRetryAfter(req.w)
		if o.reason == "locked" {
			var locked *enrollment.LockedError
			if errors.As(err, &locked) && locked.Started {
				g.metrics.lockouts.Inc()
			}
		}
		g.metrics.verifications.WithLabelValues(o.reason).Inc()
		g.page(req, o.status, "verify", d)
		return
	}
	switch res.AMR[0] {
	case "recovery":
		g.metrics.verifications.WithLabelValues("recovery_code").Inc()
	case "otp":
		g.metrics.verifications.WithLabelValues("app").Inc()
	default:
		g.metrics.verifications.WithLabelValues("success").Inc()
	}
	g.signedIn(req, res)
}

// signedIn starts the session and sends the user on. A first enrollment
// shows the new recovery codes first, once.
func (g *Gate) signedIn(req *request, res *signin.Result) {
	token, err := g.sessions.Issue(res.User, res.AMR)
	if err != nil {
		g.logger.Error("signing session", zap.Error(err))
		g.unavailable(req)
		return
	}
	g.setSessionCookie(req.w, req.r, token, int(g.sessions.Lifetime()/time.Second))
	rd := req.flow.RD
	if rd == "" {
		rd = "/"
	}
	setCookie(req.w, req.r, FlowCookie, "", g.PathPrefix, -1)
	g.rememberBrowser(req, res.User)
	g.trust(req, res.User, res.AMR)
	switch {
	case req.json:
		out := map[string]any{"status": "verified", "redirect": rd}
		if res.RecoveryCodes != nil {
			out["recovery_codes"] = res.RecoveryCodes
		}
		writeJSON(req.w, http.StatusOK, out)
	case res.RecoveryCodes != nil:
		g.pageNoFlow(req, http.StatusOK, "recovery", pageData{Recovery: res.RecoveryCodes, Next: rd})
	default:
		http.Redirect(req.w, req.r, rd, http.StatusSeeOther)
	}
}

// logout ends the session here and in the store, so that a copy of the
// cookie stops working too. A GET shows a confirmation form: a link or an
// image must not be able to sign anyone out.
func (g *Gate) logout(req *request) {
	if req.r.Method == http.MethodGet {
		g.page(req, http.StatusOK, "logout", pageData{})
		return
	}
	if c, err := req.r.Cookie(SessionCookie); err == nil {
		if cl, err := g.sessions.Verify(c.Value); err == nil {
			if err := g.sessions.Revoke(req.r.Context(), c.Value, cl); err != nil {
				g.logger.Error("revoking session", zap.Error(err))
				g.unavailable(req)
				return
			}
			g.audit("signed_out", cl.Subject, "")
		}
	}
	g.setSessionCookie(req.w, req.r, "", -1)
	setCookie(req.w, req.r, FlowCookie, "", g.PathPrefix, -1)
	rd := req.flow.RD
	if req.json {
		writeJSON(req.w, http.StatusOK, map[string]string{"status": "signed_out", "redirect": rd})
		return
	}
	if rd != "" {
		http.Redirect(req.w, req.r, rd, http.StatusSeeOther)
		return
	}
	g.pageNoFlow(req, http.StatusOK, "signed_out", pageData{})
}

// invite serves the link an admin minted for a new user: a GET shows a
// button (link scanners that fetch the page do not burn the invite); the
// POST consumes it and starts the enrollment of that user.
func (g *Gate) invite(req *request) {
	ctx := req.r.Context()
	if req.r.Method == http.MethodGet {
		token := req.r.URL.Query().Get("token")
		if _, err := g.signin.InviteFor(ctx, req.realm, token, req.user); err != nil {
			g.inviteFailed(req, err)
			return
		}
		g.page(req, http.StatusOK, "invite", pageData{Token: token})
		return
	}
	step, err := g.signin.AcceptInvite(ctx, req.realm, &req.flow.Flow, req.form["token"], req.user)
	if err != nil {
		g.inviteFailed(req, err)
		return
	}
	req.user = req.flow.User
	g.goTo(req, step)
}

// inviteFailed answers an invite that cannot be used: a dead or foreign
// link with its words, a store that cannot answer with 503.
func (g *Gate) inviteFailed(req *request, err error) {
	if _, ok := words.Of(err); !ok {
		g.logger.Error("reading an invite", zap.Error(err))
		g.unavailable(req)
		return
	}
	g.fail(req, http.StatusBadRequest, "bad_invite", g.say(req, err))
}
