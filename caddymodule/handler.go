package caddymodule

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/internal/textsafe"
	"github.com/smsgate/caddy-smsgate/pages"
	"github.com/smsgate/caddy-smsgate/session"
)

// gateCookies are the cookies no upstream sees: the bearer tokens (the
// session, a trusted browser's) and the gate's own state.
var gateCookies = []string{pages.SessionCookie, pages.FlowCookie, pages.KnownCookie, pages.TrustCookie}

// ServeHTTP lets authenticated requests through to next, serves the gate's
// own pages, and turns everyone else away.
func (g *Gate) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	if g.AssertionHeader != "" {
		r.Header.Del(g.AssertionHeader) // only ever the gate's own
	}
	if strings.HasPrefix(r.URL.Path, g.PathPrefix) {
		if r.URL.Path[len(g.PathPrefix):] == "auth" {
			g.authCheck(w, r) // forward auth: no pages, no flow
			return nil
		}
		return g.pages.ServeHTTP(w, r)
	}
	user, ok := g.priorIdentity(r)
	if !ok {
		g.logNoIdentity(r)
		return caddyhttp.Error(http.StatusUnauthorized, errNoFirstFactor)
	}
	if cl := g.session(r); cl != nil && g.accepts(cl, user) && g.fresh(cl, time.Duration(g.MaxAge)) && g.strongEnough(cl) {
		g.admit(r, cl)
		return next.ServeHTTP(w, r)
	}
	if wantsRedirect(r) {
		http.Redirect(w, r, g.PathPrefix+"login?rd="+url.QueryEscape(r.URL.RequestURI()), http.StatusFound)
		return nil
	}
	// As Caddy's own authentication does: an error the site's
	// handle_errors can shape ({err.status_code}, {err.message}); the
	// login page's address travels in a header.
	w.Header().Set("X-Smsgate-Login", g.PathPrefix+"login")
	return caddyhttp.Error(http.StatusUnauthorized, errUnauthenticated)
}

// Why a protected request was refused (for handle_errors' {err.message}).
var (
	errUnauthenticated = errors.New("sign in with a code sent to your phone")
	errNoFirstFactor   = errors.New("sign in first")
)

// admit hands the verified identity to the next handlers and takes
// smsgate's cookies off the request: upstreams must never see the bearer
// tokens (the session, and a trusted browser's, which signs it in again).
// With a cached session it allocates nothing: the values were made when
// the token was first verified.
func (g *Gate) admit(r *http.Request, cl *session.Claims) {
	repl := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	f := cl.Facts()
	// The placeholders ({http.auth.user.*}, and the first release's
	// {smsgate.*} names) come from the facts' provider: no lock, and no
	// allocation (Caddy's request replacer has room for it). A first
	// factor that set {http.auth.user.id} itself set the same user
	// (accepts checked).
	repl.Map(f.Lookup)
	stripCookies(r, gateCookies...)
	if g.AssertionHeader != "" {
		if a, err := g.sessions.Assertion(cl); err == nil {
			r.Header.Set(g.AssertionHeader, a)
			repl.Set("smsgate.assertion", a)
		} else {
			g.logger.Error("signing the identity assertion", zap.Error(err))
		}
	}
}

// identify is who the first factor says the user is (see priorIdentity),
// logging why when nobody believable is.
func (g *Gate) identify(r *http.Request) (string, bool) {
	user, ok := g.priorIdentity(r)
	if !ok {
		g.logNoIdentity(r)
	}
	return user, ok
}

func (g *Gate) logNoIdentity(r *http.Request) {
	repl := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	if !g.headersTrusted(r, repl) {
		g.logger.Warn("identity header refused: no forward_auth in this route set it, and the request did not come from a trusted proxy",
			zap.String("identity", g.Identity), zap.String("path", r.URL.Path), zap.String("ip", pages.ClientIP(r)))
		return
	}
	if user := strings.TrimSpace(repl.ReplaceAll(g.Identity, "")); user != "" {
		g.logger.Warn("identity refused: longer than the gate takes, or with control or direction characters",
			zap.String("user", textsafe.Escape(user[:min(len(user), 64)])), zap.Int("bytes", len(user)))
		return
	}
	g.logger.Warn("request without a first-factor identity refused; is basic_auth or forward_auth in front of smsgate for this path?",
		zap.String("identity", g.Identity), zap.String("path", r.URL.Path))
}

// accepts reports whether a session's user may pass this gate (see
// signin.Identity.Admits).
func (g *Gate) accepts(cl *session.Claims, prior string) bool {
	return g.signin.Identity.Admits(cl.Subject, prior)
}

// session returns the verified claims of the request's session cookie, or nil.
func (g *Gate) session(r *http.Request) *session.Claims {
	return g.sessions.Check(r.Context(), cookieValue(r, pages.SessionCookie))
}

// cookieValue is the value of the request's first cookie named name, as
// net/http reads it (the name and the part trimmed of ASCII space, one
// pair of quotes taken off the value), without http.Request.Cookie's
// allocations and without splitting the header: it runs on every
// request. A value net/http would refuse (a byte it does not allow) is
// returned as it is: a session token that is not one fails its check.
func cookieValue(r *http.Request, name string) string {
	for _, line := range r.Header["Cookie"] {
		for at := 0; ; {
			i := strings.Index(line[at:], name)
			if i < 0 {
				break
			}
			i += at
			at = i + len(name)
			if !partStart(line, i) {
				continue // inside another cookie's name or value
			}
			rest := trimSpaceLeft(line[at:])
			if rest == "" || rest[0] == ';' {
				return "" // the name alone: net/http's empty value
			}
			if rest[0] != '=' {
				continue // a longer name
			}
			v := rest[1:]
			if end := strings.IndexByte(v, ';'); end >= 0 {
				v = v[:end]
			}
			v = trimSpaceRight(v)
			if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			return v
		}
	}
	return ""
}

// partStart reports whether line[i] begins a cookie: only ASCII space
// between it and the line's start or the previous ';'.
func partStart(line string, i int) bool {
	for i > 0 && isSpace(line[i-1]) {
		i--
	}
	return i == 0 || line[i-1] == ';'
}

// isSpace is ASCII space as net/http trims it around cookies
// (textproto.TrimString).
func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

func trimSpaceLeft(s string) string {
	for len(s) > 0 && isSpace(s[0]) {
		s = s[1:]
	}
	return s
}

func trimSpaceRight(s string) string {
	for len(s) > 0 && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
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
// keeping all others as they were: every part whose name, trimmed as
// net/http and most parsers trim it, is one of names. It runs on every
// admitted request, so the usual case (smsgate's cookies before or after
// the others) takes a substring of the header, writes it where the line
// was, and allocates nothing.
func stripCookies(r *http.Request, names ...string) {
	lines := r.Header["Cookie"]
	kept := lines[:0] // rewritten in place
	for _, line := range lines {
		if line = stripLine(line, names); line != "" {
			kept = append(kept, line)
		}
	}
	switch {
	case len(kept) == len(lines):
		// The header's own slice holds the new lines.
	case len(kept) == 0:
		delete(r.Header, "Cookie")
	default:
		r.Header["Cookie"] = kept
	}
}

// stripLine is one Cookie header line without the named cookies (and
// without empty parts).
func stripLine(line string, names []string) string {
	type span struct{ from, to int }
	var keep [8]span // enough for most lines without allocating
	spans := keep[:0]
	gap := false // a dropped part between kept ones
	dropped := false
	for pos := 0; pos <= len(line); {
		end := strings.IndexByte(line[pos:], ';')
		if end < 0 {
			end = len(line)
		} else {
			end += pos
		}
		from, to := pos, end
		for from < to && isSpace(line[from]) {
			from++
		}
		for to > from && isSpace(line[to-1]) {
			to--
		}
		name := line[from:to]
		if eq := strings.IndexByte(name, '='); eq >= 0 {
			name = trimSpaceRight(name[:eq])
		}
		if from == to || slices.Contains(names, name) {
			dropped = true
		} else {
			gap = gap || (dropped && len(spans) > 0)
			spans = append(spans, span{from, to})
		}
		pos = end + 1
	}
	switch {
	case len(spans) == 0:
		return ""
	case !gap:
		return line[spans[0].from:spans[len(spans)-1].to]
	}
	var b strings.Builder
	for i, sp := range spans {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(line[sp.from:sp.to])
	}
	return b.String()
}

// fresh reports whether the code behind a session was entered within
// maxAge (0: any age will do) — per-route step-up.
func (g *Gate) fresh(cl *session.Claims, maxAge time.Duration) bool {
	return maxAge <= 0 || g.now().Sub(time.Unix(cl.AuthTime, 0)) <= maxAge
}
