package caddymodule

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/internal/cookies"
	"github.com/smsgate/caddy-smsgate/internal/textsafe"
	"github.com/smsgate/caddy-smsgate/pages"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/signin"
)

// gateCookies are the cookies no upstream sees: the bearer tokens (the
// session, a trusted browser's) and the gate's own state.
var gateCookies = []string{pages.SessionCookie, pages.FlowCookie, pages.KnownCookie, pages.TrustCookie}

// ServeHTTP lets authenticated requests through to next, serves the gate's
// own pages, and turns everyone else away.
func (g *Gate) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	if admitted, err := g.serve(w, r); !admitted {
		if err == errReplaced {
			return g.handOff(w, r, next)
		}
		return err
	}
	return next.ServeHTTP(w, r)
}

// hot is what serve reads on every request, copied together when
// Provision ends (Gate's and the runtime's fields are spread over memory
// the proxy's work evicts); anySession: see everySessionPasses.
type hot struct {
	prefix, assertion      string // PathPrefix, AssertionHeader
	sessions               *session.Manager
	noIdentity, anySession bool
}

// serve is the gate's own part of a request: it answers it, or admits it
// for the next handler. What may use the store (the pages, forward auth, a
// session not yet in the cache) holds the drain: the store outlives the
// gate's Cleanup until all of it has ended (what comes after is handed
// off: errReplaced). A repeat visit needs no store and holds nothing: the
// drain's release, an atomic write after the request's own, was a sixth of
// the gate's time on an admitted request; unless it is given an identity
// assertion, whose signing may rotate the keys, in the store.
func (g *Gate) serve(w http.ResponseWriter, r *http.Request) (admitted bool, err error) {
	h := &g.hot
	if h.assertion != "" {
		r.Header.Del(h.assertion) // only ever the gate's own
	}
	if strings.HasPrefix(r.URL.Path, h.prefix) {
		if !g.inFlight.Enter() {
			return false, errReplaced
		}
		defer g.inFlight.Release()
		if r.URL.Path[len(h.prefix):] == "auth" {
			return false, g.authCheck(w, r) // forward auth: no pages, no flow
		}
		return false, g.pages.ServeHTTP(w, r)
	}
	repl := replacer(r)
	user, ok := g.priorIdentity(r, repl)
	if !ok {
		g.logNoIdentity(r)
		return false, caddyhttp.Error(http.StatusUnauthorized, errNoFirstFactor)
	}
	found := cookies.Find(r.Header, pages.SessionCookie)
	token := found.Value
	cl := h.sessions.Cached(r.Context(), token)
	if cl == nil && token != "" {
		if cl, err = g.uncached(r, token); err != nil {
			return false, err
		}
	}
	if cl != nil && (h.anySession || g.passes(cl, user)) {
		if h.assertion != "" { // signing it may rotate the keys, in the store
			if !g.inFlight.Enter() {
				return false, errReplaced
			}
			defer g.inFlight.Release()
		}
		g.admit(r, repl, cl, found)
		return true, nil
	}
	if pages.PageLoad(r) {
		http.Redirect(w, r, g.PathPrefix+"login?rd="+url.QueryEscape(r.URL.RequestURI()), http.StatusFound)
		return false, nil
	}
	// As Caddy's own authentication does: an error the site's
	// handle_errors can shape ({err.status_code}, {err.message}); the
	// login page's address travels in a header.
	w.Header().Set("X-Smsgate-Login", g.PathPrefix+"login")
	return false, caddyhttp.Error(http.StatusUnauthorized, errUnauthenticated)
}

// uncached checks a session this gate has not cached, holding the drain.
func (g *Gate) uncached(r *http.Request, token string) (*session.Claims, error) {
	if !g.inFlight.Enter() {
		return nil, errReplaced
	}
	defer g.inFlight.Release()
	return g.sessions.Uncached(r.Context(), token), nil
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
// the token was first verified. found is where serve found the session's
// cookie: the header is not looked up or read through again; repl, the
// request's placeholders.
func (g *Gate) admit(r *http.Request, repl *caddy.Replacer, cl *session.Claims, found cookies.Found) {
	f := cl.Facts()
	// The placeholders ({http.auth.user.*}, and the first release's
	// {smsgate.*} names) come from the facts' provider: no lock, and no
	// allocation (Caddy's request replacer has room for it). A first
	// factor that set {http.auth.user.id} itself set the same user
	// (accepts checked).
	repl.Map(f.Lookup)
	found.Strip(r.Header, gateCookies...)
	if g.hot.assertion != "" {
		if a, err := g.sessions.Assertion(cl); err == nil {
			r.Header.Set(g.hot.assertion, a)
			repl.Set("smsgate.assertion", a)
		} else {
			g.logger.Error("signing the identity assertion", zap.Error(err))
		}
	}
}

// identify is who the first factor says the user is (see priorIdentity),
// logging why when nobody believable is.
func (g *Gate) identify(r *http.Request) (string, bool) {
	user, ok := g.priorIdentity(r, replacer(r))
	if !ok {
		g.logNoIdentity(r)
	}
	return user, ok
}

func (g *Gate) logNoIdentity(r *http.Request) {
	repl := replacer(r)
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

// passes reports whether a session admits the request of the first
// factor's user: its user, its age (max_age), its kind (require).
func (g *Gate) passes(cl *session.Claims, user string) bool {
	return g.signin.Identity.Admits(cl.Subject, user) && g.fresh(cl, time.Duration(g.MaxAge)) && g.strongEnough(cl)
}

// everySessionPasses: each of passes' checks is true of every session (a
// login form naming nobody, no max_age, no require), so serve skips them
// (hot.anySession). A check added to passes must be added here.
func (g *Gate) everySessionPasses() bool {
	form, ok := g.signin.Identity.(signin.LoginForm)
	return ok && len(form.Named) == 0 && g.Identity == IdentityNone && g.MaxAge <= 0 && len(g.policy.Require) == 0
}

// fresh reports whether the code behind a session was entered within
// maxAge (0: any age will do) — per-route step-up.
func (g *Gate) fresh(cl *session.Claims, maxAge time.Duration) bool {
	return maxAge <= 0 || g.now().Sub(time.Unix(cl.AuthTime, 0)) <= maxAge
}
