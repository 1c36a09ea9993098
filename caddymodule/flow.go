package caddymodule

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/golang-jwt/jwt/v5"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/phone"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/signin"
)

// maxBody bounds what a gate form or JSON body may hold.
const maxBody = 16 << 10

// flowLifetime bounds a sign-in in progress: long enough to wait for a code
// and resend it, short enough that a stolen flow cookie soon dies.
const flowLifetime = 20 * time.Minute

// request is one call to a gate endpoint, with what the gate knows of it.
type request struct {
	w     http.ResponseWriter
	r     *http.Request
	realm string
	// host is the site's name from the config (public_origin, else the
	// realm), for messages: never the request's Host header.
	host string
	// scope is realm, host and client IP, for the enrollment service.
	scope enrollment.Scope
	// user is who is signing in: the first factor's identity, or the user
	// named on the login page. Empty before login with identity "none".
	user string
	// flow is the sign-in in progress (a fresh one if the cookie was missing).
	flow *flowClaims
	json bool
	// lang is the reader's language, a key of the gate's catalogue.
	lang string
	// region is the country a number typed without + is from (the
	// picker's), and example an example number of it.
	region, example string
	// known is whom this browser signed in as before, or "".
	known string
	// form holds the submitted fields of a POST.
	form map[string]string
}

// serveGate serves the pages under PathPrefix.
func (g *Gate) serveGate(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "same-origin") // no-referrer would make browsers send "Origin: null" on our own POSTs
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Frame-Options", "DENY")
	if r.Method == http.MethodPost {
		limitBodyTime(w)
	}

	switch strings.TrimPrefix(r.URL.Path, g.PathPrefix) {
	case "auth":
		g.authCheck(w, r) // forward auth: no pages, no flow
		return nil
	case "twilio/status":
		g.twilioStatus(w, r) // the gateway's delivery receipts: signed, no flow
		return nil
	case "jwks.json":
		w.Header().Set("Cache-Control", "public, max-age=300")
		writeJSON(w, http.StatusOK, g.sessions.JWKS())
		return nil
	}
	if name, ok := strings.CutPrefix(r.URL.Path, g.PathPrefix+"assets/"); ok {
		g.serveAsset(w, r, name)
		return nil
	}
	req := &request{w: w, r: r, realm: g.Realm, host: g.host, json: acceptsJSON(r), lang: g.words.Match(r.Header.Get("Accept-Language"))}
	req.scope = enrollment.Scope{Realm: req.realm, Host: req.host, IP: clientIP(r), Lang: req.lang}
	prior, ok := g.priorIdentity(r)
	if !ok {
		g.noIdentity(w, r)
		return nil
	}
	req.flow = g.readFlow(r, req.realm)
	req.user = g.signin.User(prior, &req.flow.Flow)
	req.known = g.knownUser(r)
	req.scope.Known = req.known != "" && req.known == req.user

	var handle func(*request)
	step := strings.TrimPrefix(r.URL.Path, g.PathPrefix)
	if strings.HasPrefix(step, "passkey/") {
		g.passkey(req, step) // JSON of their own: the browser's WebAuthn answers
		return nil
	}
	switch step {
	case "login":
		handle = g.login
	case "enroll":
		handle = g.enroll
	case "verify":
		handle = g.verify
	case "logout":
		handle = g.logout
	case "devices":
		handle = g.devices
	case "invite":
		handle = g.invite
	case "status":
		handle = g.deliveryStatus
	default:
		g.fail(req, http.StatusNotFound, "not_found", g.sayID(req, "gate.not_found"))
		return nil
	}

	switch r.Method {
	case http.MethodGet:
		if rd := r.URL.Query().Get("rd"); rd != "" {
			req.flow.RD = safeRedirect(rd, g.RedirectHosts)
		}
	case http.MethodPost:
		if !g.readForm(req) {
			return nil
		}
	default:
		w.Header().Set("Allow", "GET, POST")
		g.fail(req, http.StatusMethodNotAllowed, "method_not_allowed", g.sayID(req, "gate.method"))
		return nil
	}
	// The country picker's choice (or its preset), and its example number.
	req.region = g.presetRegion(req.form["region"], r.Header.Get("Accept-Language"))
	if req.example = phone.Example(req.region); req.example == "" {
		req.example = g.example
	}
	if (step == "login" || step == "verify" || step == "enroll") && g.trustedSignIn(req) {
		return nil // a trusted browser: no code
	}
	handle(req)
	return nil
}

// readForm parses a POST and checks that it came from the gate's own page:
// a form must echo the flow's csrf token; a JSON body must come with an
// Origin header naming this site. It answers the request itself when not.
func (g *Gate) readForm(req *request) bool {
	r := req.r
	r.Body = http.MaxBytesReader(req.w, r.Body, maxBody)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	req.form = make(map[string]string)
	if ct == "application/json" {
		req.json = true
		if err := json.NewDecoder(r.Body).Decode(&req.form); err != nil {
			g.badBody(req, err, "gate.bad_json")
			return false
		}
		// JSON has no csrf field: it needs this site's own Origin, exactly
		// (not "null", and no Referer instead).
		if !strings.EqualFold(r.Header.Get("Origin"), g.publicOrigin(r)) {
			g.fail(req, http.StatusForbidden, "bad_origin", g.sayID(req, "gate.bad_origin"))
			return false
		}
		return true
	}
	if err := r.ParseForm(); err != nil {
		g.badBody(req, err, "gate.bad_form")
		return false
	}
	for k, v := range r.PostForm {
		req.form[k] = v[0]
	}
	token := req.form["csrf"]
	if req.flow.IssuedAt == nil || token == "" || subtle.ConstantTimeCompare([]byte(token), []byte(req.flow.CSRF)) != 1 || !g.sameOrigin(r) {
		g.logger.Info("form refused: csrf token missing or wrong", zap.String("path", r.URL.Path))
		g.fail(req, http.StatusForbidden, "bad_csrf", g.sayID(req, "gate.bad_csrf"))
		return false
	}
	return true
}

// sameOrigin checks a POST's Origin header, or else its Referer, against
// this site's public origin; a request with neither passes (the csrf token
// still guards forms). Browsers send Origin on every cross-site POST.
func (g *Gate) sameOrigin(r *http.Request) bool {
	from := r.Header.Get("Origin")
	if from == "" || from == "null" {
		ref, err := url.Parse(r.Header.Get("Referer"))
		if err != nil || ref.Host == "" {
			return from == ""
		}
		from = ref.Scheme + "://" + ref.Host
	}
	return strings.EqualFold(from, g.publicOrigin(r))
}

// publicOrigin is where browsers see this site: the configured
// public_origin, or the scheme (from X-Forwarded-Proto only when a trusted
// proxy sent it) and host of the request.
func (g *Gate) publicOrigin(r *http.Request) string {
	if g.PublicOrigin != "" {
		return g.PublicOrigin
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if trusted, _ := caddyhttp.GetVar(r.Context(), caddyhttp.TrustedProxyVarKey).(bool); trusted {
		if p := r.Header.Get("X-Forwarded-Proto"); p == "https" || p == "http" {
			scheme = p
		}
	}
	return scheme + "://" + r.Host
}

// goTo sends the user to a step: a 303 redirect, or a JSON answer naming
// it. Closed is a dead end, answered here.
func (g *Gate) goTo(req *request, step signin.Step) {
	if step == signin.Closed {
		g.audit("not_enrolled", req.user, "")
		g.fail(req, http.StatusForbidden, "not_enrolled", g.sayID(req, "gate.not_enrolled"))
		return
	}
	g.saveFlow(req)
	next := g.PathPrefix + step.String()
	if req.json {
		writeJSON(req.w, http.StatusOK, map[string]string{"status": "continue", "next": next})
		return
	}
	http.Redirect(req.w, req.r, next, http.StatusSeeOther)
}

// flowClaims are the flow cookie's content: the sign-in in progress, with
// what the pages need (the csrf token every form echoes, the checked
// target to return to).
type flowClaims struct {
	jwt.RegisteredClaims
	CSRF string `json:"csrf"`
	RD   string `json:"rd,omitempty"`
	signin.Flow
	// Pad makes the user's name and it one length (userWidth), so that
	// the cookie's length does not tell a known name from a decoy's.
	Pad string `json:"pad"`
}

// userWidth is the room the flow keeps for a user's name (as JSON): more
// than any decoy's name and any name typed at a login form (256 bytes).
const userWidth = 320

// pad fills Pad so that the user's name and it take userWidth bytes.
func (fl *flowClaims) pad() {
	name, _ := json.Marshal(fl.Flow.User)
	fl.Pad = strings.Repeat(".", max(0, userWidth-len(name)))
}

// readFlow returns the sign-in in progress, or a fresh one.
func (g *Gate) readFlow(r *http.Request, realm string) *flowClaims {
	if c, err := r.Cookie(FlowCookie); err == nil {
		fl := new(flowClaims)
		token, err := g.sealer.Open(c.Value, realm)
		if err == nil && g.flows.Verify(token, realm, fl) == nil {
			if fl.Flow.ID == "" {
				fl.Flow.ID = enrollment.RandomID()
			}
			return fl
		}
	}
	return &flowClaims{CSRF: enrollment.RandomID(), Flow: signin.Flow{ID: enrollment.RandomID()}}
}

// saveFlow signs the flow and seals it into its cookie, limited to the
// gate's pages. Sealed, because it names the user being signed in (and a
// decoy's name would tell that the user does not exist), and padded, so
// that its length does not tell either.
func (g *Gate) saveFlow(req *request) {
	fl := req.flow
	fl.RegisteredClaims = g.flows.NewClaims(req.realm, "", flowLifetime)
	fl.pad()
	for {
		token, err := g.flows.Sign(fl)
		if err != nil {
			g.logger.Error("signing flow cookie", zap.Error(err))
			return
		}
		sealed := g.sealer.Seal(token, req.realm)
		if len(sealed) > maxFlowCookie && fl.RD != "" {
			// Browsers drop a cookie past 4 KiB, and the sign-in with it:
			// better to land on "/" afterwards. (Known names and decoys
			// have flows of one length: they are cut alike.)
			fl.RD = ""
			continue
		}
		setCookie(req.w, req.r, FlowCookie, sealed, g.PathPrefix, int(flowLifetime/time.Second))
		return
	}
}

// maxFlowCookie is the most the flow cookie's value may hold, leaving
// room for its name and attributes within browsers' 4096 bytes.
const maxFlowCookie = 3900

// knownLifetime is how long a browser stays known after a sign-in.
const knownLifetime = 400 * 24 * time.Hour

// knownUser is whom this browser signed in as before (its known-browser
// cookie), or "".
func (g *Gate) knownUser(r *http.Request) string {
	c, err := r.Cookie(KnownCookie)
	if err != nil {
		return ""
	}
	var cl session.Claims
	if g.known.Verify(c.Value, g.Realm, &cl) != nil {
		return ""
	}
	return cl.Subject
}

// rememberBrowser marks this browser as user's: strangers who name the
// user then cannot spend its send budgets or lock it out (OWASP's device
// cookies). It lets nobody in by itself.
func (g *Gate) rememberBrowser(req *request, user string) {
	token, err := g.known.Sign(session.Claims{RegisteredClaims: g.known.NewClaims(req.realm, user, knownLifetime)})
	if err != nil {
		g.logger.Error("signing the known-browser cookie", zap.Error(err))
		return
	}
	// For the whole site: every gate of the realm on it (a route that
	// requires an app has its own pages) knows the browser.
	setCookie(req.w, req.r, KnownCookie, token, "/", int(knownLifetime/time.Second))
}

// sendFailed answers a code that was not sent: too early or over a limit
// (429), the number refused (400), or the provider failed (503: a short
// safe message for the user, the provider's full error for the admin's log).
func (g *Gate) sendFailed(req *request, err error, page string) {
	o := outcomeOf(err)
	if !o.known {
		g.logger.Error("starting challenge", zap.Error(err))
		g.unavailable(req)
		return
	}
	o.setRetryAfter(req.w)
	var limit *enrollment.LimitError
	var send *enrollment.SendError
	switch {
	case errors.As(err, &limit):
		g.audit("limit_hit", req.user, "", zap.String("limit", limit.Limit), zap.String("ip", req.scope.IP))
		g.metrics.limitHits.WithLabelValues(limit.Limit).Inc()
	case o.reason == "number_refused":
		g.audit("number_refused", req.user, "", zap.String("reason", err.Error()))
	case errors.As(err, &send) && o.status == http.StatusBadRequest:
		g.logger.Info("code_not_sent", zap.String("event", "code_not_sent"), userField(req.user), zap.Error(send.Err))
	case errors.As(err, &send):
		g.logger.Error("code_not_sent", zap.String("event", "code_not_sent"), userField(req.user), zap.Error(send.Err))
	}
	data := pageData{Error: g.say(req, err), Phone: trimInput(req.form["phone"])}
	var cool *enrollment.CooldownError
	if errors.As(err, &cool) {
		data.ResendIn = int((cool.Wait + time.Second - 1) / time.Second) // the button counts down
	}
	if page == "verify" {
		data = g.verifyData(req, g.pendingChallenge(req), g.say(req, err))
	}
	g.page(req, o.status, page, data)
}

// pendingChallenge is the flow's challenge, if it is this user's.
func (g *Gate) pendingChallenge(req *request) *enrollment.Challenge {
	c, _ := g.challenges.Challenge(req.r.Context(), req.realm, req.flow.Challenge)
	if c != nil && c.User != req.user {
		return nil
	}
	return c
}

// audit writes one audit event to the log, numbers always masked, and
// emits it as a Caddy event (smsgate_<event>) for the events app's
// subscribers.
func (g *Gate) audit(event, user, e164 string, fields ...zap.Field) {
	fs := append([]zap.Field{zap.String("event", event), userField(user)}, fields...)
	if e164 != "" {
		fs = append(fs, zap.String("phone", phone.Mask(e164)))
	}
	g.logger.Info(event, fs...)
	if g.events != nil {
		enc := zapcore.NewMapObjectEncoder()
		for _, f := range fs {
			f.AddTo(enc)
		}
		g.events.Emit(g.ctx, "smsgate_"+event, enc.Fields)
	}
}
