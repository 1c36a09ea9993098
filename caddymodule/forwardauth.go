package caddymodule

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/internal/cookies"
	"github.com/smsgate/caddy-smsgate/pages"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/signin"
	"github.com/smsgate/caddy-smsgate/store"
)

// authCheck serves GET /.smsgate/auth, the forward-auth check for other
// proxies (Caddy forward_auth, Traefik forwardAuth, nginx auth_request).
// A valid session answers 200 with identity headers for the upstream (and,
// to a trusted proxy, the request's other cookies, in Cookie, to copy); none
// answers a redirect to the portal's login (or 401 with ?mode=status, for
// nginx, which redirects itself with error_page). ?max_age=15m asks for a
// code entered within that time (step-up), never a longer one than the
// gate's own max_age. Its refusals (401, and 400 for
// a bad max_age) are Caddy's errors: the site's handle_errors shapes them.
func (g *gate) authCheck(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "no-store")
	var q url.Values
	if r.URL.RawQuery != "" { // Caddy's forward_auth sends none
		q = r.URL.Query()
	}
	maxAge := g.maxAge
	if v := q.Get("max_age"); v != "" {
		d, err := caddy.ParseDuration(v)
		if err != nil || d <= 0 {
			return caddyhttp.Error(http.StatusBadRequest, errMaxAge)
		}
		maxAge = min(d, cmp.Or(maxAge, d)) // stricter only: Caddy's forward_auth passes the client's query on
	}
	found, old := g.pages.FindSession(r.Header) // admit strips it unread
	cl, _, amrs := g.hot.sessions.Cached(r.Context(), found.Value)
	if cl == nil && found.Value != "" {
		if cl = g.sessions.Uncached(store.WithBudget(r.Context(), store.RequestTime()), found.Value); cl != nil {
			amrs = uint8(signin.AMRsOf(cl.AMR))
		}
	}
	if old != "" && cl != nil && !g.pages.OldCountsAtCheck(r, old, cl) {
		cl = nil // planted under the old name (the proxy's answer renames nothing)
	}
	trusted, _ := caddyhttp.GetVar(r.Context(), caddyhttp.TrustedProxyVarKey).(bool) // believe its headers, echo Cookie
	repl := replacer(r)
	if repl == nil { // outside Caddy's server
		repl = caddy.NewReplacer()
		r = r.WithContext(context.WithValue(r.Context(), caddy.ReplacerCtxKey, repl))
	}
	if cl != nil {
		// A session counts only for a user this gate admits; with a first
		// factor, only for the identity it names — when the check can see
		// that identity (the portal's own first factor is not on an app's
		// check).
		prior, ok := g.priorIdentity(r, repl)
		if !ok {
			prior = cl.Subject
		}
		if !g.signin.Identity.Admits(cl.Subject, prior) {
			cl = nil
		}
	}
	if cl != nil && g.fresh(cl, maxAge) && g.strongEnough(cl, amrs) {
		g.authAnswer(w, r, repl, cl, found, trusted)
		return nil
	}
	original, method := "", r.Method // the URL and method the proxy asks about
	if trusted {
		original, method = pages.OriginalRequest(r.Header, r.Method)
	}
	login := pages.LoginReturn(g.loginPage, original)
	if q.Get("mode") == "status" || method != http.MethodGet || !strings.Contains(r.Header.Get("Accept"), "text/html") {
		// nginx cannot URL-encode: it reads the login URL from this header
		// (auth_request_set) to redirect with error_page.
		w.Header().Set("X-Smsgate-Login", login)
		return caddyhttp.Error(http.StatusUnauthorized, errUnauthenticated)
	}
	http.Redirect(w, r, login, http.StatusFound)
	return nil
}

var errMaxAge = errors.New("max_age must be a duration such as 15m")

// authAnswer is a successful check's 200: the identity headers for the
// upstream, and the request's other cookies (found: the session's, as in
// ServeHTTP); repl, the request's placeholders; trusted, from a trusted proxy.
func (g *gate) authAnswer(w http.ResponseWriter, r *http.Request, repl *caddy.Replacer, cl *session.Claims, found cookies.Found, trusted bool) {
	app := "" // the assertion's app (not each of its pages), as the proxy says: never the portal's own Host
	if g.hot.assertion && trusted {
		app = pages.ForwardedApp(r.Header) // as pages.OriginalRequest reads it, built once an app
	}
	g.admit(r, repl, cl, cl.Facts().Lookup, found, app)
	h := w.Header()
	for name, value := range g.authHeaders {
		h.Set(name, identityValue(repl, cl.Facts(), value))
	}
	// The request's cookies without smsgate's (admit took them off), for a
	// proxy that copies Cookie from this answer (Traefik, nginx): the app no
	// bearer token, no cookies after a 2xx from anything else. To a trusted
	// proxy only: a page's script fetching the check reads it, HttpOnly too.
	if cookies := r.Header["Cookie"]; len(cookies) > 0 && trusted {
		h.Set("Cookie", strings.Join(cookies, "; "))
	} else if len(cookies) > 0 && asProxy(r) && !g.echoWarned.Load() && g.echoWarned.CompareAndSwap(false, true) {
		g.logger.Warn("forward-auth check answered without the request's cookies (Cookie): it echoes them only to a proxy in the server's trusted_proxies; a proxy that copies Cookie from the answer (nginx's $upstream_http_cookie, Traefik's authResponseHeaders) must be listed there, or its apps get no cookies",
			zap.String("ip", pages.ClientIP(r)))
	}
	if g.assertionHeader != "" {
		a, _ := repl.GetString("smsgate.assertion") // admit's, never the client's
		h.Set(g.assertionHeader, a)
	}
	w.WriteHeader(http.StatusOK)
}

// asProxy: the check carries the original request's address, as a proxy
// sends it (nginx's X-Original-URL, Traefik's X-Forwarded-Uri): the one
// warning goes to the proxy it is for, not to a browser's own fetch.
func asProxy(r *http.Request) bool {
	return r.Header.Get("X-Original-URL") != "" || r.Header.Get("X-Forwarded-Uri") != ""
}

// identityValue is an auth header's value with its placeholders replaced.
// The usual value, one placeholder of the session's own ({smsgate.user}),
// is read from the session's facts: no other provider of Caddy's replacer
// knows a smsgate.* name, and this skips the replacer's parse.
func identityValue(repl *caddy.Replacer, f *session.Facts, value string) string {
	if len(value) > 2 && value[0] == '{' && value[len(value)-1] == '}' {
		if name := value[1 : len(value)-1]; strings.HasPrefix(name, "smsgate.") && !strings.ContainsAny(name, "{}") {
			if v, ok := f.Lookup(name); ok {
				return caddy.ToString(v)
			}
		}
	}
	return repl.ReplaceAll(value, "")
}
