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

	"github.com/smsgate/caddy-smsgate/internal/cookies"
	"github.com/smsgate/caddy-smsgate/pages"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/signin"
	"github.com/smsgate/caddy-smsgate/store"
)

// authCheck serves GET /.smsgate/auth, the forward-auth check for other
// proxies (Caddy forward_auth, Traefik forwardAuth, nginx auth_request).
// A valid session answers 200 with identity headers for the upstream (and
// the request's other cookies, in Cookie, for Traefik to copy); none
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
		g.authAnswer(w, r, repl, cl, found)
		return nil
	}
	original, method := g.originalRequest(r)
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
// ServeHTTP); repl, the request's placeholders.
func (g *gate) authAnswer(w http.ResponseWriter, r *http.Request, repl *caddy.Replacer, cl *session.Claims, found cookies.Found) {
	app := "" // the assertion's app (not each of its pages), as the proxy says: never the portal's own Host
	if trusted, _ := caddyhttp.GetVar(r.Context(), caddyhttp.TrustedProxyVarKey).(bool); g.hot.assertion && trusted {
		app = pages.ForwardedApp(r.Header) // as originalRequest reads it, built once an app
	}
	g.admit(r, repl, cl, cl.Facts().Lookup, found, app)
	h := w.Header()
	for name, value := range g.authHeaders {
		h.Set(name, identityValue(repl, cl.Facts(), value))
	}
	// The request's cookies without smsgate's (admit took them off):
	// a proxy that copies Cookie from this answer (Traefik's
	// authResponseHeaders) hands the app no bearer token, and one that
	// got its 2xx from anything but the gate hands it no cookies at all.
	if cookies := r.Header["Cookie"]; len(cookies) > 0 {
		h.Set("Cookie", strings.Join(cookies, "; "))
	}
	if g.assertionHeader != "" {
		a, _ := repl.GetString("smsgate.assertion") // admit's, never the client's
		h.Set(g.assertionHeader, a)
	}
	w.WriteHeader(http.StatusOK)
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

// originalRequest is the URL and method the proxy is asking about
// (pages.OriginalRequest), from the headers it sets — believed only from
// the server's trusted_proxies. A refused check needs it (for the login's
// return address), and an assertion (for the app it names).
func (g *gate) originalRequest(r *http.Request) (string, string) {
	if trusted, _ := caddyhttp.GetVar(r.Context(), caddyhttp.TrustedProxyVarKey).(bool); !trusted {
		return "", r.Method
	}
	return pages.OriginalRequest(r.Header, r.Method)
}
