package caddymodule

import (
	"net/http"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/smsgate/caddy-smsgate/internal/textsafe"
	"github.com/smsgate/caddy-smsgate/siteblock"
)

// Where the gate's identity comes from, and when it is believed. A
// placeholder a first factor sets ({http.auth.user.id}) is believed as it
// is. A request header ({http.request.header.Remote-User}) is anyone's to
// send, so it is believed only where a trusted hop set it:
//
//   - a forward_auth earlier in the route copied it from its auth answer:
//     Caddy's copy_headers deletes the client's copy and sets the header
//     from the answer, and the answer's headers stay in the request's
//     placeholders ({http.reverse_proxy.header.*}), so the gate sees that
//     the header holds what the auth service said;
//   - or the request came from one of the server's trusted_proxies, which
//     set or strip it.
//
// Anywhere else (a proxy in front that is not trusted, a forward_auth
// skipped by a matcher) the client's copy names nobody: the request is
// refused as one without a first factor. Which headers the identity reads,
// and which placeholders nobody may trust, the config tells
// (siteblock/identity.go).

// headersTrusted reports whether every header the identity reads was set
// by a hop the gate trusts (see above).
func (g *gate) headersTrusted(r *http.Request, repl *caddy.Replacer) bool {
	if len(g.trusted) == 0 {
		return true
	}
	trusted, _ := caddyhttp.GetVar(r.Context(), caddyhttp.TrustedProxyVarKey).(bool)
	return trusted || siteblock.Copied(g.trusted, repl.GetString)
}

// replacer is the request's placeholders, which Caddy's server puts in its
// context (nil outside it). Finding them walks the context's chain, so an
// admitted request does it once, for the identity and the admission both.
func replacer(r *http.Request) *caddy.Replacer {
	repl, _ := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	return repl
}

// priorIdentity returns who the first factor says the user is. With
// identity "none" there is no first factor, and ok is always true; otherwise
// an empty identity is not ok, nor one from a header no trusted hop set,
// nor one too long or with hidden characters: the gate fails closed.
// repl is the request's (see replacer).
func (g *gate) priorIdentity(r *http.Request, repl *caddy.Replacer) (user string, ok bool) {
	if g.hot.noIdentity {
		return "", true
	}
	if !g.headersTrusted(r, repl) {
		return "", false // logNoIdentity says why
	}
	user = strings.TrimSpace(repl.ReplaceAll(g.identity, ""))
	if len(user) > MaxIdentity || !textsafe.Clean(user) {
		return "", false
	}
	return user, user != ""
}
