package caddymodule

// The gate's steps — login, enroll, verify, logout — each a page (GET) and
// an action (POST) on the sign-in in progress; flow.go holds what they share.

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/phone"
	"github.com/smsgate/caddy-smsgate/providers"
)

// login identifies the user (identity "none"), or, with a first factor,
// sends them on to the right step.
func (g *Gate) login(req *request) {
	if g.Identity != IdentityNone {
		g.goTo(req, g.nextStep(req))
		return
	}
	if req.r.Method == http.MethodGet {
		req.flow.User, req.flow.Challenge, req.flow.LimitKey = "", "", ""
		g.page(req, http.StatusOK, "login", pageData{})
		return
	}
	name := strings.TrimSpace(req.form["username"])
	if name == "" || len(name) > 256 {
		g.page(req, http.StatusBadRequest, "login", pageData{Error: "Enter your username or phone number."})
		return
	}
	user, e164 := g.lookup(req.r.Context(), req.realm, name)
	// Cooldowns and per-user limits count what was typed, for a known user
	// and a decoy alike, so that neither tells a name from a number of it.
	typed := name
	if num, err := phone.Parse(name, g.DefaultRegion); err == nil {
		typed = num
	}
	if user == "" {
		// An unknown user gets a decoy challenge: the same records, the same
		// pages and answers, and no message.
		user = phone.MaskDigits(name) // a number, even mistyped, never reaches the logs whole
		if typed != name {
			user = "unknown " + phone.Mask(typed)
		}
	}
	req.scope.Known = req.known != "" && req.known == user
	g.discardChallenge(req)
	c, err := g.codes.Start(req.r.Context(), req.scope, enrollment.Challenge{User: user, Phone: e164, Purpose: enrollment.Verify,
		Channel: g.Channels[0], LimitKey: "login " + typed})
	req.flow.LimitKey = "login " + typed
	if err != nil {
		g.sendFailed(req, err, "login")
		return
	}
	if e164 != "" {
		g.audit("code_sent", user, e164, zap.String("purpose", enrollment.Verify), zap.String("channel", c.Channel))
	} else {
		g.logger.Info("login for an unknown user; no code sent")
	}
	req.flow.User, req.flow.Challenge = user, c.ID
	g.goTo(req, "verify")
}

// lookup finds a user by name or by phone number: provisioned users first,
// then devices in the store. It returns "" for a user it does not know.
//
// It reads the store the same way whoever is named, so that the work done
// does not tell a known user from an unknown one.
func (g *Gate) lookup(ctx context.Context, realm, name string) (user, e164 string) {
	num, perr := phone.Parse(name, g.DefaultRegion)
	d, derr := g.codes.Device(ctx, realm, name)
	owner, oerr := g.codes.Owner(ctx, realm, num)
	switch u, ok := g.users[name]; {
	case ok:
		return u.Name, u.Phone
	case perr == nil && g.phones[num].Name != "":
		return g.phones[num].Name, num
	case perr == nil && oerr == nil && owner != "":
		return owner, num // verify-only: the number typed is the number
	case perr != nil && derr == nil && d != nil && d.Phone != "":
		return name, d.Phone
	}
	return "", ""
}

// deviceOf is the phone a user signs in with: provisioned, else enrolled
// (in verify-only mode, with only a hash of its number), else nil.
func (g *Gate) deviceOf(ctx context.Context, realm, user string) (*enrollment.Device, error) {
	if u, ok := g.users[user]; ok {
		return &enrollment.Device{Phone: u.Phone}, nil
	}
	return g.codes.Device(ctx, realm, user)
}

// nextStep is where a user with a first factor goes: verify when a phone is
// known, enroll when it is not (and enrollment is open), or a dead end.
func (g *Gate) nextStep(req *request) string {
	if req.flow.Invited {
		if d, err := g.deviceOf(req.r.Context(), req.realm, req.user); err == nil && d == nil {
			return "enroll"
		}
	}
	if g.Identity == IdentityNone {
		if req.user == "" {
			return "login"
		}
		return "verify"
	}
	d, err := g.deviceOf(req.r.Context(), req.realm, req.user)
	switch {
	case err != nil:
		g.logger.Error("reading device", zap.String("user", req.user), zap.Error(err))
		return "error"
	case d != nil:
		return "verify"
	case g.Enrollment == EnrollmentOpen:
		return "enroll"
	default:
		return "closed"
	}
}

// enroll takes a new phone number and sends it a code.
func (g *Gate) enroll(req *request) {
	if step := g.nextStep(req); step != "enroll" {
		g.goTo(req, step)
		return
	}
	if req.r.Method == http.MethodGet {
		g.page(req, http.StatusOK, "enroll", pageData{})
		return
	}
	input := req.form["phone"]
	e164, err := phone.Parse(input, g.DefaultRegion)
	if err != nil {
		g.page(req, http.StatusBadRequest, "enroll", pageData{Error: sentence(err), Phone: trimInput(input)})
		return
	}
	g.discardChallenge(req)
	c, err := g.codes.Start(req.r.Context(), req.scope, enrollment.Challenge{User: req.user, Phone: e164, Purpose: enrollment.Enroll, Channel: g.Channels[0]})
	if err != nil {
		g.sendFailed(req, err, "enroll")
		return
	}
	g.audit("code_sent", req.user, e164, zap.String("purpose", enrollment.Enroll), zap.String("channel", c.Channel))
	req.flow.Challenge = c.ID
	g.goTo(req, "verify")
}

// discardChallenge kills the flow's pending challenge: a new number or a
// new sign-in means a new code, and the old one stops working.
func (g *Gate) discardChallenge(req *request) {
	if req.flow.Challenge != "" {
		if err := g.codes.Discard(req.r.Context(), req.realm, req.flow.Challenge); err != nil {
			g.logger.Error("discarding challenge", zap.Error(err))
		}
		req.flow.Challenge = ""
	}
}

// verify shows the code form, sends or resends a code (POST action "send"
// or "resend"), and checks a code (field "code").
func (g *Gate) verify(req *request) {
	if req.user == "" && g.Identity == IdentityNone {
		g.goTo(req, "login")
		return
	}
	ctx := req.r.Context()
	c, cerr := g.codes.Challenge(ctx, req.realm, req.flow.Challenge)
	if cerr == nil && c.User != req.user {
		c, cerr = nil, enrollment.ErrNoChallenge // another user's flow: not ours to finish
	}
	if cerr != nil && !errors.Is(cerr, enrollment.ErrNoChallenge) {
		g.logger.Error("reading challenge", zap.Error(cerr))
		g.unavailable(req)
		return
	}
	action := req.form["action"]
	if c == nil && g.Identity != IdentityNone && (req.r.Method == http.MethodGet || action != "") {
		// No code pending: only a user with a phone may ask for one here.
		if step := g.nextStep(req); step != "verify" {
			g.goTo(req, step)
			return
		}
	}

	switch {
	case req.r.Method == http.MethodGet:
		g.page(req, http.StatusOK, "verify", g.verifyData(req, c, ""))
	case action == "send":
		g.sendCode(req, g.Channels[0], c)
	case action == "call":
		if !slices.Contains(g.Channels, providers.Voice) {
			g.page(req, http.StatusBadRequest, "verify", g.verifyData(req, c, "Calls are not available here."))
			return
		}
		g.sendCode(req, providers.Voice, c)
	case action == "resend":
		if c == nil || !g.now().Before(c.Expires) {
			// Nothing to send again: an expired challenge is never
			// revived; a fresh code goes where a new one would.
			g.sendCode(req, g.Channels[0], nil)
			return
		}
		nc, err := g.codes.Resend(ctx, req.scope, c.ID)
		switch {
		case err != nil:
			g.sendFailed(req, err, "verify")
		default:
			if nc.Phone != "" {
				g.audit("code_sent", req.user, nc.Phone, zap.String("purpose", nc.Purpose), zap.String("channel", nc.Channel), zap.Int("resend", nc.Resends))
			}
			req.flow.Challenge = nc.ID
			g.goTo(req, "verify")
		}
	default:
		g.checkCode(req, c)
	}
}

// sendCode sends a code on channel: for the pending challenge c (same
// number and purpose, e.g. "call me instead"), or else to the user's known
// phone. After a login, an unknown user gets a decoy, as on the login page.
func (g *Gate) sendCode(req *request, channel string, c *enrollment.Challenge) {
	e164, masked, purpose, deviceID := "", "", enrollment.Verify, ""
	switch {
	case c != nil && (c.Purpose != enrollment.Verify || req.form["device"] == ""):
		e164, masked, purpose, deviceID = c.Phone, c.Masked, c.Purpose, c.DeviceID
	case g.Identity == IdentityNone:
		_, e164 = g.lookup(req.r.Context(), req.realm, req.user)
	default:
		d, err := g.deviceOf(req.r.Context(), req.realm, req.user)
		if id := req.form["device"]; id != "" && err == nil {
			d, err = g.codes.DeviceByID(req.r.Context(), req.realm, req.user, id) // the user's choice
		}
		if err != nil || d == nil {
			if err != nil {
				g.logger.Error("reading device", zap.Error(err))
			}
			g.goTo(req, g.nextStep(req))
			return
		}
		e164, deviceID = d.Phone, d.ID
		if e164 == "" {
			// Verify-only: the user types the number again. A wrong one
			// gets a decoy — the same answer, and no code — until a code
			// is right, so the page cannot be used to test numbers.
			typed, err := phone.Parse(req.form["phone"], g.DefaultRegion)
			if err != nil {
				g.page(req, http.StatusBadRequest, "verify", pageData{Error: sentence(err), AskPhone: true})
				return
			}
			if g.codes.Matches(d, typed) {
				e164 = typed
			}
			masked = phone.Mask(typed)
		}
	}
	nc, err := g.codes.Start(req.r.Context(), req.scope, enrollment.Challenge{User: req.user, Phone: e164, Masked: masked, Purpose: purpose, Channel: channel,
		DeviceID: deviceID, DeviceName: deviceNameOf(c), LimitKey: req.flow.LimitKey})
	if err != nil {
		g.sendFailed(req, err, "verify")
		return
	}
	g.discardChallenge(req) // only now: a failed send keeps the old code
	if e164 != "" {
		g.audit("code_sent", req.user, e164, zap.String("purpose", purpose), zap.String("channel", channel))
	}
	req.flow.Challenge = nc.ID
	g.goTo(req, "verify")
}

// checkCode checks a submitted code and, when it is right, starts a session.
func (g *Gate) checkCode(req *request, c *enrollment.Challenge) {
	// A recovery code always holds a letter, a phone code never does: the
	// two are never confused, whatever code_length is.
	if code, ok := enrollment.NormalizeRecovery(req.form["code"]); ok && req.user != "" {
		g.useRecoveryCode(req, code)
		return
	}
	if c == nil {
		g.page(req, http.StatusBadRequest, "verify", g.verifyData(req, nil, sentence(enrollment.ErrNoChallenge)))
		return
	}
	code, ok := enrollment.NormalizeCode(req.form["code"], g.CodeLength)
	if !ok {
		g.page(req, http.StatusBadRequest, "verify", g.verifyData(req, c, "Enter the "+strconv.Itoa(g.CodeLength)+"-digit code from the message."))
		return
	}
	done, err := g.codes.Check(req.r.Context(), req.scope, c.ID, code)
	if err != nil {
		o := outcomeOf(err)
		if !o.known {
			g.logger.Error("checking code", zap.Error(err))
			g.unavailable(req)
			return
		}
		o.setRetryAfter(req.w)
		var locked *enrollment.LockedError
		if errors.As(err, &locked) && locked.Started {
			g.audit("locked_out", req.user, c.Phone, zap.String("ip", req.scope.IP), zap.Duration("for", locked.Wait))
			g.metrics.lockouts.Inc()
		}
		g.metrics.verifications.WithLabelValues(o.reason).Inc()
		g.audit("verify_failed", req.user, c.Phone, zap.String("reason", o.reason), zap.String("ip", req.scope.IP))
		if o.reason != "wrong_code" {
			c = nil // the challenge is over: offer a new code
		}
		g.page(req, o.status, "verify", g.verifyData(req, c, sentence(err)))
		return
	}
	g.metrics.verifications.WithLabelValues("success").Inc()
	switch done.Purpose {
	case enrollment.Enroll:
		g.audit("enrolled", done.User, done.Phone, zap.String("device", done.DeviceID))
	case enrollment.Add:
		g.audit("device_added", done.User, done.Phone, zap.String("device", done.DeviceID))
		g.notify(req, done.User, done.DeviceID, "a new phone ("+done.Masked+") was added to your account")
	}
	g.audit("verified", done.User, done.Phone)
	g.signedIn(req, done.User, []string{"sms"}, done.Purpose == enrollment.Enroll)
}

// signedIn starts the session and sends the user on. A first enrollment
// shows the new recovery codes first, once.
func (g *Gate) signedIn(req *request, user string, amr []string, firstEnrollment bool) {
	if err := g.startSession(req, user, amr); err != nil {
		g.logger.Error("signing session", zap.Error(err))
		g.unavailable(req)
		return
	}
	rd := req.flow.RD
	if rd == "" {
		rd = "/"
	}
	var codes []string
	if firstEnrollment {
		if left, err := g.codes.RecoveryCodesLeft(req.r.Context(), req.realm, user); err == nil && left == 0 {
			if codes, err = g.codes.NewRecoveryCodes(req.r.Context(), req.realm, user); err != nil {
				g.logger.Error("making recovery codes", zap.Error(err))
				codes = nil
			}
		}
	}
	setCookie(req.w, req.r, FlowCookie, "", g.PathPrefix, -1)
	g.rememberBrowser(req, user)
	switch {
	case req.json:
		out := map[string]any{"status": "verified", "redirect": rd}
		if codes != nil {
			out["recovery_codes"] = codes
		}
		writeJSON(req.w, http.StatusOK, out)
	case codes != nil:
		g.pageNoFlow(req, http.StatusOK, "recovery", pageData{Recovery: codes, Next: rd})
	default:
		http.Redirect(req.w, req.r, rd, http.StatusSeeOther)
	}
}

// useRecoveryCode signs the user in with a recovery code, burning it, and
// tells their phones.
func (g *Gate) useRecoveryCode(req *request, code string) {
	err := g.codes.UseRecoveryCode(req.r.Context(), req.scope, req.flow.ID, req.user, code)
	if err != nil {
		o := outcomeOf(err)
		if !o.known {
			g.logger.Error("checking a recovery code", zap.Error(err))
			g.unavailable(req)
			return
		}
		o.setRetryAfter(req.w)
		g.metrics.verifications.WithLabelValues("wrong_recovery_code").Inc()
		g.audit("verify_failed", req.user, "", zap.String("reason", o.reason), zap.String("ip", req.scope.IP))
		g.page(req, o.status, "verify", g.verifyData(req, g.pendingChallenge(req), sentence(err)))
		return
	}
	g.metrics.verifications.WithLabelValues("recovery_code").Inc()
	g.audit("recovery_code_used", req.user, "", zap.String("ip", req.scope.IP))
	g.notify(req, req.user, "", "a recovery code was used to sign in to your account")
	g.signedIn(req, req.user, []string{"recovery"}, false)
}

// startSession sets the session cookie for user.
func (g *Gate) startSession(req *request, user string, amr []string) error {
	token, err := g.sessions.Issue(user, amr)
	if err != nil {
		return err
	}
	g.setSessionCookie(req.w, req.r, token, int(g.sessions.Lifetime()/time.Second))
	return nil
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
	token := req.r.URL.Query().Get("token")
	if req.r.Method == http.MethodPost {
		token = req.form["token"]
	}
	user, err := g.codes.InviteUser(req.r.Context(), req.realm, token)
	if err == nil && g.Identity != IdentityNone && user != req.user {
		err = errors.New("this invite is for another account")
	}
	if err != nil {
		g.fail(req, http.StatusBadRequest, "bad_invite", sentence(err))
		return
	}
	if req.r.Method == http.MethodGet {
		g.page(req, http.StatusOK, "invite", pageData{Token: token})
		return
	}
	if _, err := g.codes.TakeInvite(req.r.Context(), req.realm, token); err != nil {
		g.fail(req, http.StatusBadRequest, "bad_invite", sentence(err))
		return
	}
	g.audit("invite_used", user, "")
	req.user = user
	req.flow.User, req.flow.Invited, req.flow.Challenge = user, true, ""
	g.goTo(req, g.nextStep(req))
}
