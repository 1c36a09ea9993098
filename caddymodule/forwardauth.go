package caddymodule

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/smsgate/caddy-smsgate/pages"
)

// authCheck serves GET /.smsgate/auth, the forward-auth check for other
// proxies (Caddy forward_auth, Traefik forwardAuth, nginx auth_request).
// A valid session answers 200 with identity headers for the upstream (and
// the request's other cookies, in Cookie, for Traefik to copy); none
// answers a redirect to the portal's login (or 401 with ?mode=status, for
// nginx, which redirects itself with error_page). ?max_age=15m asks for a
// code entered within that time (step-up).
func (g *Gate) authCheck(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	q := r.URL.Query()
	maxAge := time.Duration(g.MaxAge)
	if v := q.Get("max_age"); v != "" {
		d, err := caddy.ParseDuration(v)
		if err != nil || d <= 0 {
			http.Error(w, "400 Bad Request: max_age must be a duration such as 15m", http.StatusBadRequest)
			return
		}
		maxAge = d
	}
	original, method := g.originalRequest(r)
	cl := g.session(r)
	if cl != nil {
		// A session counts only for a user this gate admits; with a first
		// factor, only for the identity it names — when the check can see
		// that identity (the portal's own first factor is not on an app's
		// check).
		prior, ok := g.priorIdentity(r)
		if !ok {
			prior = cl.Subject
		}
		if !g.accepts(cl, prior) {
			cl = nil
		}
	}
	if cl != nil && g.fresh(cl, maxAge) && g.strongEnough(cl) {
		repl, _ := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
		if repl == nil {
			repl = caddy.NewReplacer()
		}
		g.admit(r.WithContext(context.WithValue(r.Context(), caddy.ReplacerCtxKey, repl)), cl)
		for name, value := range g.authHeaders() {
			w.Header().Set(name, repl.ReplaceAll(value, ""))
		}
		// The request's cookies without smsgate's (admit took them off):
		// a proxy that copies Cookie from this answer (Traefik's
		// authResponseHeaders) hands the app no bearer token, and one that
		// got its 2xx from anything but the gate hands it no cookies at all.
		if cookies := r.Header.Values("Cookie"); len(cookies) > 0 {
			w.Header().Set("Cookie", strings.Join(cookies, "; "))
		}
		if g.AssertionHeader != "" {
			w.Header().Set(g.AssertionHeader, repl.ReplaceAll("{smsgate.assertion}", ""))
		}
		w.WriteHeader(http.StatusOK)
		return
	}
	status := q.Get("mode") == "status" || method != http.MethodGet || !strings.Contains(r.Header.Get("Accept"), "text/html")
	if status {
		// nginx cannot URL-encode: it reads the login URL from this header
		// (auth_request_set) to redirect with error_page.
		w.Header().Set("X-Smsgate-Login", g.loginURL(original))
		pages.WriteJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthenticated", "login": g.loginURL(original)})
		return
	}
	http.Redirect(w, r, g.loginURL(original), http.StatusFound)
}

// authHeaders are the headers a successful check answers with.
func (g *Gate) authHeaders() map[string]string {
	if len(g.AuthHeaders) > 0 {
		return g.AuthHeaders
	}
	return map[string]string{"Remote-User": "{smsgate.user}"}
}

// loginURL is the portal's login page, returning to original.
func (g *Gate) loginURL(original string) string {
	u := g.PortalURL + g.PathPrefix + "login"
	if original != "" {
		u += "?rd=" + url.QueryEscape(original)
	}
	return u
}

// originalRequest is the URL and method the proxy is asking about, from
// the headers it sets — believed only from the server's trusted_proxies.
// Caddy and Traefik send X-Forwarded-Method/Proto/Host/Uri; nginx is
// configured to send X-Original-URL and X-Original-Method.
func (g *Gate) originalRequest(r *http.Request) (string, string) {
	if trusted, _ := caddyhttp.GetVar(r.Context(), caddyhttp.TrustedProxyVarKey).(bool); !trusted {
		return "", r.Method
	}
	if u := r.Header.Get("X-Original-URL"); u != "" {
		return u, headerOr(r, "X-Original-Method", http.MethodGet)
	}
	host, uri := r.Header.Get("X-Forwarded-Host"), r.Header.Get("X-Forwarded-Uri")
	if host == "" {
		return "", headerOr(r, "X-Forwarded-Method", r.Method)
	}
	proto := headerOr(r, "X-Forwarded-Proto", "https")
	if uri == "" || uri[0] != '/' {
		uri = "/" + uri
	}
	return proto + "://" + host + uri, headerOr(r, "X-Forwarded-Method", http.MethodGet)
}

func headerOr(r *http.Request, name, def string) string {
	if v := r.Header.Get(name); v != "" {
		return v
	}
	return def
}
