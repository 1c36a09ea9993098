package caddymodule

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/caddymodule/failedload"
	"github.com/smsgate/caddy-smsgate/internal/cookies"
	"github.com/smsgate/caddy-smsgate/internal/textsafe"
	"github.com/smsgate/caddy-smsgate/pages"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/signin"
	"github.com/smsgate/caddy-smsgate/store"
)

// ServeHTTP lets authenticated requests through to next, serves the gate's
// own pages, and turns everyone else away. What may use the store holds
// the drain (after Cleanup: handOff); a repeat visit does not. Its code is
// the admitted path; the rest is in own, uncached, pages.Refuse. The
// running gate serves it (serve): Gate is its configuration.
func (g *Gate) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	return g.run.serve(w, r, next)
}

// serve is ServeHTTP's, on the running gate.
func (g *gate) serve(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	h := &g.hot
	if h.assertion {
		r.Header.Del(g.assertionHeader) // only ever the gate's own
	}
	if strings.HasPrefix(r.URL.Path, h.prefix) {
		return g.own(w, r, next)
	}
	repl, _ := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	user, ok := "", h.noIdentity
	if !ok {
		user, ok = g.priorIdentity(r, repl)
	}
	if !ok {
		g.logNoIdentity(r)
		return caddyhttp.Error(http.StatusUnauthorized, errNoFirstFactor)
	}
	found, old := g.pages.FindSession(r.Header)
	token := found.Value
	cl, lookup, amrs := h.sessions.Cached(r.Context(), token)
	if cl == nil && token != "" {
		var err error
		if cl, lookup, amrs, err = g.uncached(r, token); err != nil {
			return g.handOff(w, r, next) // errReplaced
		}
	}
	if old != "" {
		cl = g.pages.OldSession(w, r, old, token, cl) // nil if planted: the gate writes the prefixed name
	}
	if cl != nil && (h.anySession && h.earns.Holds(signin.AMRs(amrs)) || g.passes(cl, amrs, user)) {
		if !g.admit(r, repl, cl, lookup, found, r.Host) {
			return g.handOff(w, r, next) // session.ErrReleased
		}
		return next.ServeHTTP(w, r)
	}
	return pages.Refuse(w, r, h.prefix, errUnauthenticated)
}

// hot is what ServeHTTP reads, in one line made when Provision ends (the
// cache's table too: session.Repeat); anySession: see everySessionPasses.
type hot struct {
	prefix                            string // PathPrefix
	sessions                          session.Repeat
	earns                             signin.AMRs // g.policy.Earns(): anySession, against the cache entry's amr bits
	assertion, noIdentity, anySession bool
}

// own serves the gate's own paths (under its prefix), holding the drain.
func (g *gate) own(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	if !g.inFlight.Enter() {
		return g.handOff(w, r, next)
	}
	defer g.inFlight.Release()
	if r.URL.Path[len(g.hot.prefix):] == "auth" {
		return g.authCheck(w, r) // forward auth: no pages, no flow (a store budget on a cache miss only)
	}
	// A person waits (store.RequestBudget); a step read is done whole, hang-up or not (as admin.Bounded).
	r = r.WithContext(store.WithBudget(context.WithoutCancel(r.Context()), store.RequestTime()))
	return g.pages.ServeHTTP(w, r)
}

// uncached checks a session this gate has not cached, holding the drain:
// what Repeat.Cached answers for one it has.
func (g *gate) uncached(r *http.Request, token string) (*session.Claims, func(string) (any, bool), uint8, error) {
	if !g.inFlight.Enter() {
		return nil, nil, 0, errReplaced
	}
	defer g.inFlight.Release()
	if cl := g.sessions.Uncached(store.WithBudget(r.Context(), store.RequestTime()), token); cl != nil {
		return cl, cl.Facts().Lookup, uint8(signin.AMRsOf(cl.AMR)), nil
	}
	return nil, nil, 0, nil
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
// the token was first verified. found is where ServeHTTP found the session's
// cookie (the header is not looked up again); repl, the request's
// placeholders; lookup, cl.Facts().Lookup (the cache's copy); app, the upstream's host. It reports
// false, having changed nothing, when the identity assertion was due to be
// signed after the gate's Cleanup (signing may write keys to the store it
// let go of: session.ErrReleased): the request is then handed on.
func (g *gate) admit(r *http.Request, repl *caddy.Replacer, cl *session.Claims, lookup func(string) (any, bool), found cookies.Found, app string) bool {
	if g.hot.assertion {
		switch a, err := g.sessions.Assertion(cl, app); {
		case errors.Is(err, session.ErrReleased):
			return false
		case err != nil:
			g.logger.Error("signing the identity assertion", zap.Error(err))
		default:
			r.Header.Set(g.assertionHeader, a)
			repl.Set("smsgate.assertion", a)
		}
	}
	// The placeholders ({http.auth.user.*}, and the first release's
	// {smsgate.*} names) come from the facts' provider: no lock, and no
	// allocation (Caddy's request replacer has room for it). A first
	// factor that set {http.auth.user.id} itself set the same user
	// (accepts checked).
	repl.Map(lookup)
	found.Strip(r.Header, pages.GateCookies...)
	return true
}

// identify is who the first factor says the user is (see priorIdentity),
// logging why when nobody believable is.
func (g *gate) identify(r *http.Request) (string, bool) {
	user, ok := g.priorIdentity(r, replacer(r))
	if !ok {
		g.logNoIdentity(r)
	}
	return user, ok
}

func (g *gate) logNoIdentity(r *http.Request) {
	repl := replacer(r)
	if !g.headersTrusted(r, repl) {
		g.logger.Warn("identity header refused: no forward_auth in this route set it, and the request did not come from a trusted proxy",
			zap.String("identity", g.identity), zap.String("path", r.URL.Path), zap.String("ip", pages.ClientIP(r)))
		return
	}
	if user := strings.TrimSpace(repl.ReplaceAll(g.identity, "")); user != "" {
		g.logger.Warn("identity refused: longer than the gate takes, or with control, direction or invisible characters",
			zap.String("user", textsafe.Escape(user[:min(len(user), 64)])), zap.Int("bytes", len(user)))
		return
	}
	g.logger.Warn("request without a first-factor identity refused; is basic_auth or forward_auth in front of smsgate for this path?",
		zap.String("identity", g.identity), zap.String("path", r.URL.Path))
}

// passes reports whether a session admits the request of the first
// factor's user: its user, its age (max_age), its kind (require); amrs, its
// amr as bits.
func (g *gate) passes(cl *session.Claims, amrs uint8, user string) bool {
	return g.signin.Identity.Admits(cl.Subject, user) && g.fresh(cl, g.maxAge) && g.strongEnough(cl, amrs)
}

// everySessionPasses: each of passes' checks but the kind the session was
// earned with (signin.Policy.Earned, cheap) is true of every session (a
// login form naming nobody, no max_age, no require), so ServeHTTP skips
// them (hot.anySession). A check added to passes must be added here.
func (g *gate) everySessionPasses() bool {
	form, ok := g.signin.Identity.(signin.LoginForm)
	return ok && len(form.Named) == 0 && g.identity == IdentityNone && g.maxAge <= 0 && len(g.policy.Require) == 0
}

// fresh reports whether the code behind a session was entered within
// maxAge (0: any age will do) — per-route step-up.
func (g *gate) fresh(cl *session.Claims, maxAge time.Duration) bool {
	return maxAge <= 0 || g.now().Sub(time.Unix(cl.AuthTime, 0)) <= maxAge
}

// handOff serves a request that reached the gate after Cleanup (it was
// still in a handler before the gate, basic_auth say, when the config was
// reloaded) with the newest live gate of the same configuration, which
// runs all its checks (and hands it on again if it was replaced too) and
// says so (handed_off); with none, a 503 the client may retry at once, on
// the new config (an error, for handle_errors). The store stays untouched.
// With no such gate (the reload changed the gate), or first where its config
// failed to start, the running config's server on the request's address
// serves it whole, its own routes and gate (failedload.ToRunning, once).
func (g *gate) handOff(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	failed := failedload.FailedToStart(g.log.Ctx)
	if failed && failedload.ToRunning(w, r) {
		g.logger.Info("a request reached the gate of a config that failed to start: served by the running config", zap.String("event", "handed_to_running"), zap.String("realm", g.log.Realm))
		return nil
	}
	if s, ok := successors.Newest(g.key, g); ok { // told by s: the events app of g's config ended with it
		s.log.Alarm(zap.InfoLevel, "handed_off", "a request that reached its gate after a config reload is served by the gate that replaced it")
		return s.serve(w, r, next)
	}
	if !failed && failedload.ToRunning(w, r) {
		g.logger.Info("a request reached its gate after a reload that changed it: served by the running config", zap.String("event", "handed_to_running"), zap.String("realm", g.log.Realm))
		return nil
	}
	g.logger.Info("a request reached its gate after a config reload; no live gate has its configuration: 503, to retry", zap.String("event", "replaced"), zap.String("realm", g.log.Realm))
	w.Header().Set("Retry-After", "1")
	return caddyhttp.Error(http.StatusServiceUnavailable, errReplaced)
}

// errReplaced is also uncached's word for such a request: ServeHTTP hands it off.
var errReplaced = errors.New("the site's configuration was just replaced: try again")
