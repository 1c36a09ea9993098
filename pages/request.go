package pages

import (
	"crypto/subtle"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/signin"
	"github.com/smsgate/caddy-smsgate/store"
	"go.uber.org/zap"
)

// One request to a gate page: what the gate knows of it, its form, and
// the checks that it came from the gate's own page.

// MaxBody bounds what a gate form or JSON body may hold, in bytes.
const MaxBody = 16 << 10

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
	// knowns are the request's known-browser cookies that verify (and
	// count: oldCounts), read once (readKnown).
	knowns []*session.Claims
	// session is the request's session once readSession verified it (and
	// it counts), sessionRead whether it did.
	session     *session.Claims
	sessionRead bool
	// sessionToken is the request's session cookie, under the old name
	// sessionOld if any, once sessionCookie looked it up (sessionFound).
	sessionToken, sessionOld string
	sessionFound             bool
	// failed is the error a page that could not be rendered answers
	// with (Caddy's, for the site's handle_errors), or nil.
	failed error
	// browser names this browser, once browserID made or read it.
	browser string
	// form holds the submitted fields of a POST.
	form map[string]string
	// began is when the request began, before it checked anything: the
	// session a sign-in earns is issued then (session.Began).
	began session.Began
	// guard is the guard of a live session's change (liveChange), its
	// request's context carrying it; nil for none.
	guard *store.Guard
}

// readForm parses a POST and checks that it came from the gate's own page:
// a form must echo the flow's csrf token; a JSON body must come with an
// Origin header naming this site. It answers the request itself when not.
func (p *Pages) readForm(req *request) bool {
	r := req.r
	r.Body = http.MaxBytesReader(req.w, r.Body, MaxBody)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	req.form = make(map[string]string)
	if ct == "application/json" {
		req.json = true
		if err := json.NewDecoder(r.Body).Decode(&req.form); err != nil {
			p.badBody(req, err, "gate.bad_json")
			return false
		}
		// JSON has no csrf field: it needs this site's own Origin, exactly
		// (not "null", and no Referer instead).
		if !strings.EqualFold(r.Header.Get("Origin"), p.publicOrigin(r)) {
			p.fail(req, http.StatusForbidden, "bad_origin", p.sayID(req, "gate.bad_origin"))
			return false
		}
		return true
	}
	if err := r.ParseForm(); err != nil {
		p.badBody(req, err, "gate.bad_form")
		return false
	}
	for k, v := range r.PostForm {
		req.form[k] = v[0]
	}
	token := req.form["csrf"]
	if req.flow.IssuedAt == nil || token == "" || subtle.ConstantTimeCompare([]byte(token), []byte(req.flow.CSRF)) != 1 || !p.sameOrigin(r) {
		p.Logger.Info("form refused: csrf token missing or wrong", zap.String("path", r.URL.Path))
		p.fail(req, http.StatusForbidden, "bad_csrf", p.sayID(req, "gate.bad_csrf"))
		return false
	}
	return true
}

// sameOrigin checks a POST's Origin header, or else its Referer, against
// this site's public origin; a request with neither passes (the csrf token
// still guards forms). Browsers send Origin on every cross-site POST.
func (p *Pages) sameOrigin(r *http.Request) bool {
	from := r.Header.Get("Origin")
	if from == "" || from == "null" {
		ref, err := url.Parse(r.Header.Get("Referer"))
		if err != nil || ref.Host == "" {
			return from == ""
		}
		from = ref.Scheme + "://" + ref.Host
	}
	return strings.EqualFold(from, p.publicOrigin(r))
}

// publicOrigin is where browsers see this site: the configured
// public_origin, or the scheme (from X-Forwarded-Proto only when a trusted
// proxy sent it) and host of the request.
func (p *Pages) publicOrigin(r *http.Request) string {
	if p.PublicOrigin != "" {
		return p.PublicOrigin
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if trusted, _ := caddyhttp.GetVar(r.Context(), caddyhttp.TrustedProxyVarKey).(bool); trusted {
		if proto := r.Header.Get("X-Forwarded-Proto"); proto == "https" || proto == "http" {
			scheme = proto
		}
	}
	return scheme + "://" + r.Host
}

// goTo sends the user to a step: a 303 redirect, or a JSON answer naming
// it. Closed is a dead end, answered here.
func (p *Pages) goTo(req *request, step signin.Step) {
	if step == signin.Closed {
		p.Audit("not_enrolled", req.user, "")
		p.fail(req, http.StatusForbidden, "not_enrolled", p.sayID(req, "gate.not_enrolled"))
		return
	}
	p.saveFlow(req)
	next := p.PathPrefix + step.String()
	if req.json {
		WriteJSON(req.w, http.StatusOK, map[string]string{"status": "continue", "next": next})
		return
	}
	http.Redirect(req.w, req.r, next, http.StatusSeeOther)
}

// admitStranger asks the sign-in whether a stranger's request may make the
// gate keep something (signin.Service.AdmitStranger), and answers a
// refusal itself.
func (p *Pages) admitStranger(req *request, name string, whole bool, refused func(error)) bool {
	if err := p.SignIn.AdmitStranger(req.r.Context(), &req.scope, req.known, name, whole); err != nil {
		refused(err)
		return false
	}
	return true
}

// PageLoad tells a browser's page load from everything else: API clients,
// HEAD, OPTIONS (CORS preflight) and WebSocket upgrades get 401 from a
// gate, never a redirect to sign in.
func PageLoad(r *http.Request) bool {
	if r.Method != http.MethodGet || r.Header.Get("Upgrade") != "" {
		return false
	}
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

// Refuse answers a request for a protected path that no session admits:
// a browser's page load goes to the login page under prefix (rd, the page
// it asked for); anything else gets err as a 401 for the site's
// handle_errors ({err.status_code}, {err.message}), with the login page in
// X-Smsgate-Login, as Caddy's own authentication does.
func Refuse(w http.ResponseWriter, r *http.Request, prefix string, err error) error {
	if PageLoad(r) {
		http.Redirect(w, r, prefix+"login?rd="+url.QueryEscape(r.URL.RequestURI()), http.StatusFound)
		return nil
	}
	w.Header().Set("X-Smsgate-Login", prefix+"login")
	return caddyhttp.Error(http.StatusUnauthorized, err)
}
