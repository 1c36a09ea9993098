package pages

import (
	"cmp"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/smsgate/caddy-smsgate/audit"
	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/signin"
	"go.uber.org/zap"
)

// The gate's steps — login, enroll, verify, logout (logout.go), invite (invite.go) — each a page
// (GET) and an action (POST). The sign-in itself is package signin; these
// read the form, call it, and render what it answers.

// login identifies the user (identity "none"), or, with a first factor,
// sends them on to the right step.
func (p *Pages) login(req *request) {
	if !p.SignIn.Identity.NamesThemselves() {
		p.next(req)
		return
	}
	if req.r.Method == http.MethodGet {
		req.flow.User, req.flow.Challenge, req.flow.LimitKey = "", "", ""
		p.page(req, http.StatusOK, "login", pageData{})
		return
	}
	if !p.offersTexts(req) {
		// This gate takes no texted codes: name the user, send nothing.
		if err := p.SignIn.Name(req.r.Context(), req.scope, &req.flow.Flow, req.form["username"], req.region); err != nil {
			p.sendFailed(req, err, "login") // no name typed, or the IP's limit
			return
		}
		req.user = req.flow.User
		p.goTo(req, signin.Verify)
		return
	}
	if !p.admitStranger(req, strings.TrimSpace(req.form["username"]), false, func(err error) { p.sendFailed(req, err, "login") }) {
		return
	}
	if _, err := p.SignIn.Login(req.r.Context(), req.scope, &req.flow.Flow, req.known, req.form["username"], req.region); err != nil {
		p.sendFailed(req, err, "login")
		return
	}
	req.user = req.flow.User
	p.goTo(req, signin.Verify)
}

// next sends the user to the step the sign-in says is next; nextOf, to
// the one Next answered (its store's error a 503 at once, not asked again).
func (p *Pages) next(req *request) {
	step, err := p.SignIn.Next(req.r.Context(), req.realm, &req.flow.Flow, req.user)
	p.nextOf(req, step, err)
}

func (p *Pages) nextOf(req *request, step signin.Step, err error) {
	if err != nil {
		p.Logger.Error("reading device", audit.User(req.user), zap.Error(err))
		p.unavailable(req)
		return
	}
	p.goTo(req, step)
}

// enroll takes a first phone number and sends it a code.
func (p *Pages) enroll(req *request) {
	step, err := p.SignIn.Next(req.r.Context(), req.realm, &req.flow.Flow, req.user)
	if err != nil || step != signin.Enroll {
		p.nextOf(req, step, err)
		return
	}
	if p.enrollPaused(req) || p.stranded(req) {
		return
	}
	if req.r.Method == http.MethodGet {
		if !p.twinRefused(req) { // a case twin's refusal before a number is typed
			p.page(req, http.StatusOK, "enroll", pageData{Phone: p.asTyped(req, p.enrollingNumber(req))}) // back to change it: the number she typed
		}
		return
	}
	if _, err := p.SignIn.Enroll(req.r.Context(), req.scope, &req.flow.Flow, req.user, req.form["phone"], req.region); err != nil {
		p.sendFailed(req, err, "enroll") // a number that does not parse too: why, with what was typed kept
		return
	}
	p.goTo(req, signin.Verify)
}

// verify shows the code form, sends or resends a code (POST action "send",
// "call" or "resend"), and checks a code (field "code").
func (p *Pages) verify(req *request) {
	if req.user == "" && p.SignIn.Identity.NamesThemselves() {
		p.goTo(req, signin.Login)
		return
	}
	ctx := req.r.Context()
	c, err := p.SignIn.Pending(ctx, req.realm, &req.flow.Flow, req.user)
	if err != nil {
		p.Logger.Error("reading challenge", zap.Error(err))
		p.unavailable(req)
		return
	}
	action := req.form["action"]
	if c == nil && !p.SignIn.Identity.NamesThemselves() && (req.r.Method == http.MethodGet || action != "") {
		// No code pending: only a user with a phone may ask for one here.
		// (Or a first phone whose code died: a new one may go to it.)
		if step, err := p.SignIn.Next(ctx, req.realm, &req.flow.Flow, req.user); err != nil ||
			(step != signin.Verify && !(step == signin.Enroll && req.flow.EnrollingOf(req.user) != "")) {
			p.nextOf(req, step, err)
			return
		}
	}
	refused := false // a kind this gate (or the console: rules) does not take here
	sends := action == "send" || action == "call" || action == "sms" || action == "resend"
	if req.r.Method == http.MethodPost {
		_, recovery := enrollment.NormalizeRecovery(req.form["code"])
		switch {
		case action == "app":
			refused = !p.offers(req, factor.TOTP)
		case action == "call":
			refused = !p.channelKind(req, factor.ChannelVoice)
		case action == "sms":
			refused = !p.channelKind(req, factor.ChannelSMS)
		case recovery && !sends: // checked as a code, whatever the action names
			refused = !p.offersRecovery(req)
		default: // a texted code (of a kind the gate takes), or asking for one
			refused = !p.offersTexts(req) || (c != nil && !p.Policy.TakesChannel(c.Channel))
		}
	}
	switch {
	case req.r.Method == http.MethodGet:
		p.page(req, http.StatusOK, "verify", p.verifyData(req, c, ""))
	case refused:
		// Not a kind this gate takes here: a clear no, and what it does take.
		p.page(req, http.StatusBadRequest, "verify", p.verifyData(req, nil, p.requiredWords(req)))
	case sends && !p.admitStranger(req, req.user, false, func(err error) { p.sent(req, c, err) }):
		// refused: answered
	case action == "send", action == "call", action == "sms":
		channel := map[string]factor.Channel{"send": p.Channels[0], "call": factor.ChannelVoice, "sms": factor.ChannelSMS}[action]
		req.scope.Undelivered = p.delivery(req, c) == "failed"
		_, err := p.SignIn.Send(ctx, req.scope, &req.flow.Flow, req.user, channel, c, req.form["device"], req.form["phone"])
		p.sent(req, c, err)
	case action == "resend":
		_, err := p.SignIn.Resend(ctx, req.scope, &req.flow.Flow, req.user, c)
		p.sent(req, c, err)
	case req.user != "" && p.bornEnded(req, req.user):
		// answered, before the check: her code (a recovery code too) is
		// not spent on a session that would be born ended (review35)
	case action == "app":
		p.checkApp(req, c)
	default:
		p.checkCode(req, c)
	}
}

// sent answers a request to send a code: on to the verify page, or why not
// (each refusal's status is its row's: refuse).
func (p *Pages) sent(req *request, c *enrollment.Challenge, err error) {
	var step *signin.StepError
	var ask *signin.AskPhoneError
	switch {
	case err == nil:
		p.goTo(req, signin.Verify)
	case errors.As(err, &step):
		p.goTo(req, step.Step)
	case errors.As(err, &ask):
		p.page(req, refuse(err).status, "verify", pageData{Error: p.say(req, err), AskPhone: true})
	case errors.Is(err, signin.ErrNoCalls), errors.Is(err, signin.ErrNoTexts):
		p.page(req, refuse(err).status, "verify", p.verifyData(req, c, p.say(req, err)))
	default:
		p.sendFailed(req, err, "verify")
	}
}

// checkCode checks a submitted code (or recovery code) and, when it is
// right, starts a session.
func (p *Pages) checkCode(req *request, c *enrollment.Challenge) {
	firstPhone := c != nil && c.Purpose == enrollment.Enroll
	if firstPhone && p.enrollPaused(req) {
		return
	}
	var live signin.Live
	ctx := req.r.Context()
	if c != nil && c.Purpose == enrollment.Add {
		// A phone is added for a signed-in user: a session ended meanwhile
		// (a sign-out everywhere, the admin's reset) ends the adding too.
		cl := p.session(req)
		if cl == nil || cl.Subject != c.User || !p.SignIn.Identity.Admits(cl.Subject, req.user) {
			_ = p.SignIn.Challenges.Discard(req.r.Context(), req.realm, c.ID)
			p.checked(req, nil, nil, enrollment.ErrNoChallenge, false)
			return
		}
		live = p.live(cl)
		ctx = p.SignIn.AddingWith(ctx, req.realm, cl, req.form["code"], p.SignIn.CodeLength)
	}
	res, err := p.SignIn.Check(ctx, req.scope, &req.flow.Flow, req.user, c, req.form["code"], live)
	if err == nil && firstPhone {
		p.sawUsers(req.r.Context())
	}
	if err == nil && c != nil && c.Purpose == enrollment.Add {
		req.flow.Notice = "devices.added" // the devices page says so
	}
	_, recovery := enrollment.NormalizeRecovery(req.form["code"])
	p.checked(req, c, res, err, recovery)
}

// checkApp checks a code from the user's authenticator app. A pending
// texted code stays good beside it.
func (p *Pages) checkApp(req *request, c *enrollment.Challenge) {
	res, err := p.SignIn.CheckApp(req.r.Context(), req.scope, req.user, req.form["code"])
	d := pageData{}
	if err != nil {
		d = p.verifyData(req, c, p.say(req, err))
		d.AppError, d.Remembered = true, req.form["remember"] == "1"
		p.whichCode(req, &d, err, "code.wrong_app")
	}
	p.answerCheck(req, res, err, d)
}

// checked answers the check of a texted or recovery code.
func (p *Pages) checked(req *request, c *enrollment.Challenge, res *signin.Result, err error, recovery bool) {
	d := pageData{}
	if err != nil {
		if !recovery && !errors.As(err, new(*enrollment.WrongCodeError)) && !errors.As(err, new(*signin.CodeFormatError)) {
			c = nil // the challenge is over: offer a new code
		}
		d = p.verifyData(req, c, p.say(req, err))
		d.RecoveryError, d.Remembered = recovery, req.form["remember"] == "1"
		if !recovery {
			p.whichCode(req, &d, err, textedOrCalled(c))
		}
		if recovery && errors.Is(err, enrollment.ErrWrongRecovery) {
			d.RecoveryTyped = req.form["code"]
		}
	}
	p.answerCheck(req, res, err, d)
}

// answerCheck signs the user in, or shows page d with why not.
func (p *Pages) answerCheck(req *request, res *signin.Result, err error, d pageData) {
	if step := new(signin.StepError); errors.As(err, &step) {
		// A recovery code of a user with no device left: a first phone
		// before any session.
		p.Metrics.Verifications.WithLabelValues("recovery_code").Inc()
		p.goTo(req, step.Step)
		return
	}
	if err != nil {
		o := refuse(err)
		if errors.As(err, new(*signin.CodeFormatError)) {
			p.page(req, o.status, "verify", d) // no guess: not counted
			return
		}
		if !o.known() {
			p.Logger.Error("checking a code", zap.Error(err))
			p.unavailable(req)
			return
		}
		o.setRetryAfter(req.w)
		if o.LockStarted {
			p.Metrics.Lockouts.Inc()
		}
		p.Metrics.Verifications.WithLabelValues(o.Reason).Inc()
		if twin, ok := p.twinAtCompletion(req, err); ok {
			p.page(req, o.status, "enroll", twin)
			return
		}
		p.page(req, o.status, "verify", d)
		return
	}
	switch res.AMR[0] {
	case factor.AMRRecovery:
		p.Metrics.Verifications.WithLabelValues("recovery_code").Inc()
	case factor.AMROTP:
		p.Metrics.Verifications.WithLabelValues(factor.App.Name()).Inc()
	default:
		p.Metrics.Verifications.WithLabelValues("success").Inc()
	}
	p.signedIn(req, res)
}

// signedIn starts the session and sends the user on. A first enrollment
// shows the new recovery codes first, once. A session that would be born
// ended was refused before: before the code's check (verify), or once a
// passkey named its user (passkeyLogin).
func (p *Pages) signedIn(req *request, res *signin.Result) {
	w := where(req)
	// The admin's end of this session ends this browser's trust too: the
	// one its sign-in made (in place of the one it held), or the one it
	// holds already.
	held := p.heldTrust(req, res.User)
	trust, wrote := p.trust(req, res.User, res)
	w.Trust, w.Device = cmp.Or(trust, held), &res.Device
	made := ""
	if wrote {
		made = trust // the device's removal meanwhile takes it back (stillHeld)
	}
	token, sid, err := p.Sessions.IssueBegun(req.r.Context(), req.began, res.User, res.AMR, w)
	if err == nil {
		err = p.stillHeld(req, res, token, sid, made)
	}
	if errors.Is(err, errDeviceGone) {
		// Nothing handed out: refused as the check refuses a device
		// removed before it (the admin's removal of a stolen phone).
		if res.AMR[0].Proves() == factor.WebAuthn {
			p.passkeyFailed(req, enrollment.ErrPasskey)
		} else {
			p.checked(req, nil, nil, enrollment.ErrNoChallenge, false)
		}
		return
	}
	if err != nil {
		p.Logger.Error("signing session", zap.Error(err))
		p.unavailable(req)
		return
	}
	p.carryApp(req, res.User, sid)
	p.setSiteCookie(req.w, req.r, SessionCookie, token, int(p.Sessions.Lifetime()/time.Second))
	p.Metrics.SignIns.WithLabelValues(string(res.AMR[0])).Inc()
	rd := req.flow.RD
	if rd == "" {
		rd = "/"
	}
	if pc, notice := p.passedStepUp(req, res.User, sid), req.flow.Notice; (pc != nil || notice != "") && !req.json {
		// The devices page finishes the change a step-up kept, or says
		// what was done.
		req.flow = &flowClaims{CSRF: enrollment.RandomID(), Flow: signin.Flow{ID: enrollment.RandomID()}, Pending: pc, Notice: notice}
		p.saveFlow(req)
	} else {
		p.setCookie(req.w, req.r, FlowCookie, "", p.PathPrefix, -1)
	}
	p.rememberBrowser(req, res.User, sid, w.Trust, w.Device)
	p.replaced(req, res.User, sid)
	switch {
	case req.json:
		out := map[string]any{"status": "verified", "redirect": rd}
		if res.RecoveryCodes != nil {
			out["recovery_codes"] = res.RecoveryCodes
		}
		WriteJSON(req.w, http.StatusOK, out)
	case res.RecoveryCodes != nil:
		p.showCodes(req, res.User, res.RecoveryCodes, rd)
	default:
		http.Redirect(req.w, req.r, rd, http.StatusSeeOther)
	}
}

// sendFailed answers a code that was not sent: too early or over a limit
// (429), the name or number typed unusable or refused (400), or the
// provider failed (503: a short safe message for the user, the provider's
// full error for the admin's log); each status its row's in signin's table.
func (p *Pages) sendFailed(req *request, err error, page string) {
	o := refuse(err)
	if !o.known() {
		p.Logger.Error("starting challenge", zap.Error(err))
		p.unavailable(req)
		return
	}
	o.setRetryAfter(req.w)
	switch {
	case o.Limit != "":
		p.Audit("limit_hit", req.user, "", zap.String("limit", o.Limit), zap.String("ip", req.scope.IP))
		p.Metrics.LimitHits.WithLabelValues(o.Limit).Inc()
	case errors.As(err, new(*enrollment.RefusedError)): // number_refused: a send's refusals are one type each, none wrapping another, so the table's order decides nothing here
		p.Audit("number_refused", req.user, "", zap.String("reason", err.Error()))
	case o.Cause != nil && o.Class == signin.Mistake: // the number, as the provider said
		p.Logger.Info("code_not_sent", zap.String("event", "code_not_sent"), audit.User(req.user), zap.Error(o.Cause))
	case o.Cause != nil:
		p.Logger.Error("code_not_sent", zap.String("event", "code_not_sent"), audit.User(req.user), zap.Error(o.Cause))
	}
	data := pageData{Error: p.say(req, err), Phone: trimInput(req.form["phone"])}
	if page == "login" && len(req.form["username"]) <= signin.MaxIdentity {
		data.Username = req.form["username"] // kept at a refusal (wait, a limit): not typed again (walk37)
	}
	if errors.As(err, new(*enrollment.CooldownError)) {
		data.ResendIn = int((o.Wait + time.Second - 1) / time.Second) // the button counts down
	}
	if page == "verify" {
		data = p.verifyData(req, p.pendingChallenge(req), p.say(req, err))
	}
	p.page(req, o.status, page, data)
}

// pendingChallenge is the flow's challenge, if it is this user's.
func (p *Pages) pendingChallenge(req *request) *enrollment.Challenge {
	c, _ := p.SignIn.Challenges.Challenge(req.r.Context(), req.realm, req.flow.Challenge)
	if c != nil && c.User != req.user {
		return nil
	}
	return c
}
