package caddymodule

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"
	"go.uber.org/zap"
)

// Passkeys' ceremonies: the page's script (assets/smsgate.js) asks
// <prefix>passkey/<register|login>/begin for the options, has the browser
// make or use the passkey, and posts its answer to …/finish. All four are
// JSON POSTs that must come from this site's exact Origin, inside a flow.

// newWebAuthn binds passkeys to the site's origin: public_origin, else the
// site's address; the RP ID is cookie_domain or that origin's host. No
// origin (a JSON config without one): no passkeys.
func (g *Gate) newWebAuthn() (*webauthn.WebAuthn, error) {
	origin := g.PublicOrigin
	if origin == "" {
		origin = strings.TrimSuffix(g.SiteOrigin, "/")
	}
	if origin == "" {
		return nil, nil
	}
	u, err := url.Parse(origin)
	if err != nil || u.Hostname() == "" {
		return nil, fmt.Errorf("passkeys: %q is not an origin", origin)
	}
	rpID := u.Hostname()
	if g.CookieDomain != "" {
		rpID = strings.TrimPrefix(g.CookieDomain, ".")
	}
	if net.ParseIP(rpID) != nil {
		return nil, nil // WebAuthn binds passkeys to a domain: a site on an address has none
	}
	site := g.SiteName
	if site == "" {
		site = rpID
	}
	return webauthn.New(&webauthn.Config{RPID: rpID, RPDisplayName: site, RPOrigins: []string{origin},
		Timeouts: webauthn.TimeoutsConfig{Login: webauthn.TimeoutConfig{Enforce: true, Timeout: 2 * time.Minute},
			Registration: webauthn.TimeoutConfig{Enforce: true, Timeout: 2 * time.Minute}}})
}

// passkey serves the four ceremony endpoints.
func (g *Gate) passkey(req *request, step string) {
	req.json = true
	r := req.r
	switch {
	case r.Method != http.MethodPost:
		req.w.Header().Set("Allow", "POST")
		g.fail(req, http.StatusMethodNotAllowed, "method_not_allowed", g.sayID(req, "gate.method"))
		return
	case !strings.EqualFold(r.Header.Get("Origin"), g.publicOrigin(r)):
		g.fail(req, http.StatusForbidden, "bad_origin", g.sayID(req, "gate.bad_origin"))
		return
	case req.flow.IssuedAt == nil || req.flow.Flow.ID == "":
		g.fail(req, http.StatusForbidden, "bad_csrf", g.sayID(req, "gate.bad_csrf"))
		return
	case g.webauthn == nil:
		g.fail(req, http.StatusNotFound, "not_found", g.sayID(req, "gate.not_found"))
		return
	}
	r.Body = http.MaxBytesReader(req.w, r.Body, maxBody)
	ctx := r.Context()
	switch step {
	case "passkey/register/begin", "passkey/register/finish":
		// Adding one is a device change: a session, and a fresh code.
		cl := g.session(r)
		if cl == nil || !g.signin.Identity.Admits(cl.Subject, req.user) || !g.fresh(cl, time.Duration(g.StepUp)) {
			g.fail(req, http.StatusForbidden, "step_up", g.sayID(req, "passkey.step_up"))
			return
		}
		if step == "passkey/register/begin" {
			creation, err := g.signin.BeginPasskey(ctx, req.realm, cl.Subject, &req.flow.Flow)
			if g.passkeyFailed(req, err) {
				return
			}
			g.saveFlow(req)
			writeJSON(req.w, http.StatusOK, creation)
			return
		}
		if g.passkeyFailed(req, g.signin.FinishPasskey(ctx, req.scope, cl.Subject, &req.flow.Flow, r)) {
			return
		}
		writeJSON(req.w, http.StatusOK, map[string]string{"status": "added", "redirect": g.PathPrefix + "devices"})
	case "passkey/login/begin", "passkey/login/finish":
		if !g.offers(req, "webauthn") {
			g.fail(req, http.StatusBadRequest, "not_taken", g.requiredWords(req))
			return
		}
		g.passkeyLogin(req, step)
	default:
		g.fail(req, http.StatusNotFound, "not_found", g.sayID(req, "gate.not_found"))
	}
}

// passkeyLogin serves a sign-in's two halves.
func (g *Gate) passkeyLogin(req *request, step string) {
	ctx, r := req.r.Context(), req.r
	switch step {
	case "passkey/login/begin":
		if !g.admitStranger(req, g.passkeyUser(req), true, func(err error) { g.passkeyFailed(req, err) }) {
			return
		}
		assertion, err := g.signin.BeginPasskeyLogin(ctx, req.realm, g.passkeyUser(req), &req.flow.Flow)
		if g.passkeyFailed(req, err) {
			return
		}
		g.saveFlow(req)
		writeJSON(req.w, http.StatusOK, assertion)
	case "passkey/login/finish":
		res, err := g.signin.FinishPasskeyLogin(ctx, req.scope, g.passkeyUser(req), &req.flow.Flow, r)
		if g.passkeyFailed(req, err) {
			return
		}
		g.metrics.verifications.WithLabelValues("passkey").Inc()
		g.signedIn(req, res)
	default:
		g.fail(req, http.StatusNotFound, "not_found", g.sayID(req, "gate.not_found"))
	}
}

// passkeyUser is whose passkey a sign-in asks for: the first factor's
// user, or — with a login form — anyone's (a discoverable passkey names
// its user), so that the answer never tells whether a typed name has one.
func (g *Gate) passkeyUser(req *request) string {
	if g.signin.Identity.NamesThemselves() {
		return ""
	}
	return req.user
}

// passkeyFailed answers err, if any: the sign-in's own errors with their
// words, faults with a 503 (and the log).
func (g *Gate) passkeyFailed(req *request, err error) bool {
	if err == nil {
		return false
	}
	o := outcomeOf(err)
	if !o.known {
		g.logger.Error("a passkey ceremony", zap.Error(err))
		g.unavailable(req)
		return true
	}
	o.setRetryAfter(req.w)
	g.metrics.verifications.WithLabelValues(o.reason).Inc()
	g.fail(req, o.status, o.reason, g.say(req, err))
	return true
}
