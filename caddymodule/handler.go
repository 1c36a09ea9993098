package caddymodule

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/smsgate/caddy-smsgate/internal/localhost"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
)

// Cookie names.
const (
	SessionCookie = "smsgate_session"
	FlowCookie    = "smsgate_flow"
	// KnownCookie marks a browser that signed in before (see rememberBrowser).
	KnownCookie = "smsgate_known"
)

// ServeHTTP lets authenticated requests through to next, serves the gate's
// own pages, and turns everyone else away.
func (g *Gate) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	if g.AssertionHeader != "" {
		r.Header.Del(g.AssertionHeader) // only ever the gate's own
	}
	if strings.HasPrefix(r.URL.Path, g.PathPrefix) {
		return g.serveGate(w, r)
	}
	user, ok := g.priorIdentity(r)
	if !ok {
		g.noIdentity(w, r)
		return nil
	}
	if cl := g.session(r); cl != nil && g.accepts(cl, user) && g.fresh(cl, time.Duration(g.MaxAge)) {
		g.admit(r, cl)
		return next.ServeHTTP(w, r)
	}
	if wantsRedirect(r) {
		http.Redirect(w, r, g.PathPrefix+"login?rd="+url.QueryEscape(r.URL.RequestURI()), http.StatusFound)
		return nil
	}
	writeJSON(w, http.StatusUnauthorized, map[string]string{
		"error":   "unauthenticated",
		"message": "sign in with a code sent to your phone",
		"login":   g.PathPrefix + "login",
	})
	return nil
}

// admit hands the verified identity to the next handlers and takes the
// session cookie off the request: upstreams must never see the bearer token.
func (g *Gate) admit(r *http.Request, cl *session.Claims) {
	repl := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	repl.Set("http.auth.user.id", cl.Subject)
	repl.Set("smsgate.user", cl.Subject)
	repl.Set("smsgate.auth_time", strconv.FormatInt(cl.AuthTime, 10))
	repl.Set("smsgate.amr", strings.Join(cl.AMR, " "))
	stripCookies(r, SessionCookie, FlowCookie, KnownCookie)
	if g.AssertionHeader != "" {
		if a, err := g.assertion(cl); err == nil {
			r.Header.Set(g.AssertionHeader, a)
			repl.Set("smsgate.assertion", a)
		} else {
			g.logger.Error("signing the identity assertion", zap.Error(err))
		}
	}
}

// priorIdentity returns who the first factor says the user is. With
// identity "none" there is no first factor, and ok is always true; otherwise
// an empty identity is not ok: the gate fails closed.
func (g *Gate) priorIdentity(r *http.Request) (user string, ok bool) {
	if g.Identity == IdentityNone {
		return "", true
	}
	repl := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	user = strings.TrimSpace(repl.ReplaceAll(g.Identity, ""))
	return user, user != ""
}

// noIdentity refuses a request that arrived without the first factor the
// config promised: a misordered handler or a matcher gap, never a reason to
// let it in or to start enrollment for nobody.
func (g *Gate) noIdentity(w http.ResponseWriter, r *http.Request) {
	g.logger.Warn("request without a first-factor identity refused; is basic_auth or forward_auth in front of smsgate for this path?",
		zap.String("identity", g.Identity), zap.String("path", r.URL.Path))
	if acceptsJSON(r) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthenticated", "message": "sign in first"})
		return
	}
	http.Error(w, "401 Unauthorized: sign in first", http.StatusUnauthorized)
}

// accepts reports whether a session's user may pass this gate: with a
// first factor, only while the session names the same user; with identity
// "none", any user of the realm, unless the gate names its users, and then
// only those (two gates on one store must not open each other's routes).
func (g *Gate) accepts(cl *session.Claims, prior string) bool {
	if g.Identity != IdentityNone {
		return cl.Subject == prior
	}
	if len(g.users) > 0 {
		_, ok := g.users[cl.Subject]
		return ok
	}
	return true
}

// session returns the verified claims of the request's session cookie for
// the gate's realm, or nil. A verified token is cached, so a repeat visit costs a map
// lookup; a revoked one is never cached.
func (g *Gate) session(r *http.Request) *session.Claims {
	realm := g.Realm
	token := cookieValue(r, SessionCookie)
	if token == "" {
		return nil
	}
	now := g.now()
	g.syncRevocations(r.Context(), now)
	if cl, ok := g.cache.Get(realm, token, now); ok {
		return cl
	}
	cl := new(session.Claims)
	if err := g.sessions.Verify(token, realm, cl); err != nil {
		if ce := g.logger.Check(zapcore.DebugLevel, "session cookie refused"); ce != nil {
			ce.Write(zap.Error(err))
		}
		return nil
	}
	if _, err := g.store.Get(r.Context(), revokedKey(realm, cl.SID)); !errors.Is(err, store.ErrNotFound) {
		if err != nil {
			g.logger.Error("checking session revocation; refusing the session", zap.Error(err))
		}
		return nil
	}
	// An admin reset ends every session the user held.
	if before, err := g.codes.RevokedBefore(r.Context(), realm, cl.Subject); err != nil || (!before.IsZero() && !cl.IssuedAt.After(before)) {
		return nil
	}
	g.cache.Add(realm, token, cl)
	return cl
}

// cookieValue finds a cookie in the request's Cookie headers without the
// allocations of http.Request.Cookie: it runs on every request.
func cookieValue(r *http.Request, name string) string {
	for _, line := range r.Header["Cookie"] {
		for line != "" {
			var part string
			part, line, _ = strings.Cut(line, ";")
			part = strings.TrimSpace(part)
			if k, v, ok := strings.Cut(part, "="); ok && k == name {
				return strings.Trim(v, `"`)
			}
		}
	}
	return ""
}

// clientIP is the client's address as Caddy determined it: the peer, or
// what trusted proxies (the server's `trusted_proxies`) said — never a raw
// X-Forwarded-For.
func clientIP(r *http.Request) string {
	ip, _ := caddyhttp.GetVar(r.Context(), caddyhttp.ClientIPVarKey).(string)
	if ip == "" {
		ip, _, _ = net.SplitHostPort(r.RemoteAddr)
	}
	return ip
}

func revokedKey(realm, sid string) string { return store.Key("revoked", realm, sid) }

// requestHost is the request's host, lower case, without port: only for
// what the client's own answer looks like (a Secure cookie or not), never
// for realms, messages or decisions about other users.
func requestHost(r *http.Request) string {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.ToLower(strings.Trim(host, "[]"))
}

// wantsRedirect tells a browser's page load from everything else: API
// clients, HEAD, OPTIONS (CORS preflight) and WebSocket upgrades get 401,
// never a redirect.
func wantsRedirect(r *http.Request) bool {
	if r.Method != http.MethodGet || r.Header.Get("Upgrade") != "" {
		return false
	}
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

// stripCookies removes the named cookies from the request's Cookie headers,
// keeping all others as they were.
func stripCookies(r *http.Request, names ...string) {
	lines := r.Header.Values("Cookie")
	if len(lines) == 0 {
		return
	}
	var kept []string
	for _, line := range lines {
		for part := range strings.SplitSeq(line, ";") {
			part = strings.TrimSpace(part)
			name, _, _ := strings.Cut(part, "=")
			drop := part == ""
			for _, n := range names {
				drop = drop || name == n
			}
			if !drop {
				kept = append(kept, part)
			}
		}
	}
	r.Header.Del("Cookie")
	if len(kept) > 0 {
		r.Header.Set("Cookie", strings.Join(kept, "; "))
	}
}

// setCookie writes an HttpOnly, SameSite=Lax cookie, Secure except on
// plain-http localhost (where browsers would refuse it).
func setCookie(w http.ResponseWriter, r *http.Request, name, value, path string, maxAge int) {
	http.SetCookie(w, cookie(r, name, value, path, maxAge))
}

func cookie(r *http.Request, name, value, path string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     path,
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   r.TLS != nil || !localhost.Is(requestHost(r)),
		SameSite: http.SameSiteLaxMode,
	}
}

// setSessionCookie writes the session cookie, for the whole parent domain
// when cookie_domain is set (one sign-in for every app under it).
func (g *Gate) setSessionCookie(w http.ResponseWriter, r *http.Request, value string, maxAge int) {
	c := cookie(r, SessionCookie, value, "/", maxAge)
	c.Domain = g.CookieDomain
	http.SetCookie(w, c)
}

// fresh reports whether the code behind a session was entered within
// maxAge (0: any age will do) — per-route step-up.
func (g *Gate) fresh(cl *session.Claims, maxAge time.Duration) bool {
	return maxAge <= 0 || g.now().Sub(time.Unix(cl.AuthTime, 0)) <= maxAge
}
