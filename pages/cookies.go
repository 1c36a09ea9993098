package pages

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"golang.org/x/net/publicsuffix"

	"github.com/smsgate/caddy-smsgate/internal/cfutil"
	"github.com/smsgate/caddy-smsgate/internal/cookies"
	"github.com/smsgate/caddy-smsgate/internal/localhost"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/signin"
)

// The gate's cookies, by their names on plain http at loopback (where a
// browser takes no Secure cookie) and before this release everywhere. The
// module takes all of them off a request before it passes it on
// (GateCookies): the session and a trusted browser's are bearer tokens.
const (
	SessionCookie = "smsgate_session"
	FlowCookie    = "smsgate_flow"
	// KnownCookie marks a browser that signed in before (see rememberBrowser).
	KnownCookie = "smsgate_known"
	// TrustCookie is a trusted browser's (see trusted.go).
	TrustCookie = "smsgate_trust"
)

// The prefixes of the site-wide cookies (the session's, the known
// browser's) wherever they are Secure. A browser takes a __Host- cookie
// only from the host itself, Secure, with Path=/ and no Domain, so no
// other host under the registrable domain can plant one beside the
// visitor's (a session of its own, sent first: a login CSRF). With
// cookie_domain the cookie is for every host under it, which __Host-
// forbids: __Secure- then, and each host under the domain can plant one.
const (
	HostPrefix   = "__Host-"
	SecurePrefix = "__Secure-"
)

// Prefixed is the name a site-wide cookie (SessionCookie, KnownCookie)
// has where it is Secure: __Host- for the site alone, __Secure- with a
// cookie_domain. It is the only name the gate reads such a cookie by,
// but the old ones (cookieNames: oldCounts).
func Prefixed(name, cookieDomain string) string { return prefix(cookieDomain != "") + name }

// prefix is Prefixed's choice: with a cookie_domain (domain), or not.
func prefix(domain bool) string {
	if domain {
		return SecurePrefix
	}
	return HostPrefix
}

// GateCookies are every name the gate's cookies may have, old and new,
// every realm's (a name ending in # stands for itself and itself with a
// realm's tag, as cookies.Found.Strip reads it: a realm of its own adds
// realmTag): none reaches an upstream (a planted one neither, of any
// realm). An upstream's own cookie that only begins alike
// (smsgate_session_extra, smsgate_sessions) reaches it.
var GateCookies = []string{
	HostPrefix + SessionCookie + "#", SecurePrefix + SessionCookie + "#", SessionCookie + "#",
	HostPrefix + KnownCookie + "#", SecurePrefix + KnownCookie + "#", KnownCookie + "#",
	FlowCookie, TrustCookie,
}

// session is the verified claims of the request's session cookie, or nil
// — nil too for a session earned with a kind this gate does not take (its
// factors dropped it): it is no session here, for the devices page, a
// step-up or the console (signin.Policy.Earned).
func (p *Pages) session(req *request) *session.Claims {
	if cl := p.readSession(req); cl != nil && p.Policy.Earned(cl.AMR) {
		return cl
	}
	return nil
}

// readSession verifies the request's session cookie once for the whole
// request (req.session): under its prefixed name, else under its old name
// if it counts (OldSession, whose answer renames it where Secure). serve
// asks first for an old-name one on a Secure request (renameSession), so
// that whatever the page, its answer renames it; a page that wants the
// session asks then (session).
func (p *Pages) readSession(req *request) *session.Claims {
	if req.sessionRead {
		return req.session
	}
	req.sessionRead = true
	if token, old := p.sessionCookie(req); token != "" {
		cl := p.Sessions.Check(req.r.Context(), token)
		if old != "" {
			cl = p.OldSession(req.w, req.r, old, token, cl)
		}
		req.session = cl
	}
	return req.session
}

// sessionCookie is the request's session cookie (FindSession), looked up
// once for the whole request: under its prefixed name, else under an old
// name (old), which counts only as oldCounts says.
func (p *Pages) sessionCookie(req *request) (token, old string) {
	if !req.sessionFound {
		found, old := p.FindSession(req.r.Header)
		req.sessionToken, req.sessionOld, req.sessionFound = found.Value, old, true
	}
	return req.sessionToken, req.sessionOld
}

// FindSession is the look for the gate's session cookie (the module's on
// every request to the app, the pages' once a request), one pass over the
// header for all its names (cookies.FindFirst): under its prefixed name,
// else under an old one (old: the name; "" for the prefixed one), which
// counts only as oldCounts says (cookieNames).
func (p *Pages) FindSession(h http.Header) (found cookies.Found, old string) {
	found, i := cookies.FindFirst(h, p.names.session)
	if i > 0 {
		old = p.names.session[i]
	}
	return found, old
}

// oldCounts reports whether a cookie found under its old name name, whose
// token cl verified (for this realm: its audience), counts where the
// gate's cookies are Secure (sec, as secure says for the pages that named
// it) or not. An old name with the __Host-/__Secure- prefix is the shared
// name a realm of its own wrote before it had its own: only this host (or
// cookie_domain's, as its own name) can set one, so its token is this
// realm's own. Any other counts always where the gate still writes that
// name (plain http at loopback); elsewhere only a token a release before
// the renaming issued (the browser's own from before the upgrade:
// session.Manager.IssuedBeforeRename). One issued since was planted: the
// gate writes no such cookie any more. The one rule for both cookies, the
// pages', the module's and a forward-auth check's.
func (p *Pages) oldCounts(name string, sec bool, cl *session.Claims) bool {
	return strings.HasPrefix(name, HostPrefix) || strings.HasPrefix(name, SecurePrefix) || !sec || p.Sessions.IssuedBeforeRename(cl)
}

// OldCountsAtCheck is oldCounts for a forward-auth check, whose request
// comes from the proxy, often over plain http at a loopback address
// (Traefik's forwardAuth and nginx's proxy_pass name the check's own
// address), while the browser's cookie was named by the pages that wrote
// it: at portal_url when it is set (where the check sends a browser to
// sign in), else at the site the proxy asks about (X-Forwarded-Proto and
// -Host, X-Original-URL; headers that only make it stricter: a client
// that sends them of its own refuses its own old-name cookie).
func (p *Pages) OldCountsAtCheck(r *http.Request, name string, cl *session.Claims) bool {
	if p.PortalURL != "" {
		return p.oldCounts(name, !p.portalPlain, cl)
	}
	return p.oldCounts(name, p.secure(r) || forwardedSecure(r.Header), cl)
}

// forwardedSecure reports whether the request a proxy's forward-auth
// check asks about, as its headers say, was one whose answer the gate's
// cookies are Secure in (secure): over HTTPS, or at a host that is not
// loopback. Headers that say nothing of it say no.
func forwardedSecure(h http.Header) bool {
	for _, v := range h.Values("X-Original-Url") {
		if u, err := url.Parse(v); err != nil || !insecureURL(u) {
			return true
		}
	}
	for _, v := range h.Values("X-Forwarded-Proto") {
		if strings.Contains(strings.ToLower(v), "https") {
			return true
		}
	}
	for _, v := range h.Values("X-Forwarded-Host") {
		for host := range strings.SplitSeq(v, ",") {
			if host = strings.TrimSpace(host); host != "" && !localhost.Is(hostOnly(host)) {
				return true
			}
		}
	}
	return false
}

// OldSession is the session found under its old name (token its value, cl
// its verified claims: nil for none), as the module finds it on a request
// to the app and the pages on theirs: cl if it counts (oldCounts), else
// nil. When it counts on a Secure request, w's answer renames it (the
// prefixed name written, the old one expired; w nil: no answer does, as
// a sign-out's, which ends it).
func (p *Pages) OldSession(w http.ResponseWriter, r *http.Request, name, token string, cl *session.Claims) *session.Claims {
	if cl == nil {
		return nil
	}
	sec := p.secure(r)
	if !p.oldCounts(name, sec, cl) {
		return nil // planted: the gate writes the prefixed name there
	}
	if p.renamed(name, sec) && w != nil { // elsewhere the old name is the one written
		// The answer now carries the session token: no shared cache may
		// keep it, whatever the app says of its page.
		w.Header().Add("Cache-Control", "private")
		p.rename(w, r, SessionCookie, token, cl)
		p.expireShared(w, r, name)
	}
	return cl
}

// renameSession renames the request's session cookie in the answer when
// it comes under its old name on a Secure request and counts
// (readSession, which keeps it for the page).
func (p *Pages) renameSession(req *request) {
	if _, old := p.sessionCookie(req); old != "" && p.renamed(old, p.secure(req.r)) {
		p.readSession(req)
	}
}

// rename writes a site-wide cookie found under its old name (token, whose
// claims are cl) under its prefixed name, for the rest of its token's
// life, and expires the old: only for a Secure request (elsewhere the old
// name is the one written; the callers ask).
func (p *Pages) rename(w http.ResponseWriter, r *http.Request, name, token string, cl *session.Claims) {
	if cl.ExpiresAt == nil {
		return
	}
	if left := int(cl.ExpiresAt.Sub(p.Now()) / time.Second); left > 0 {
		p.setSiteCookie(w, r, name, token, left)
	}
}

// live is cl's session's signin.Live: asked again, in the store, once a
// change it let in is written.
func (p *Pages) live(cl *session.Claims) signin.Live {
	return func(ctx context.Context) (bool, error) { return p.Sessions.Live(ctx, cl) }
}

// setCookie writes an HttpOnly, SameSite=Lax cookie, Secure except on
// plain-http localhost (where browsers would refuse it).
func (p *Pages) setCookie(w http.ResponseWriter, r *http.Request, name, value, path string, maxAge int) {
	http.SetCookie(w, p.cookie(r, name, value, path, maxAge))
}

func (p *Pages) cookie(r *http.Request, name, value, path string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     path,
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   p.secure(r),
		SameSite: http.SameSiteLaxMode,
	}
}

// secure reports whether the gate's cookies are Secure in the answer to
// r: everywhere but plain http at loopback, as browsers see the site — an
// https public_origin is never that, whatever Host a proxy in front asks
// the gate with (nginx's proxy_pass http://localhost:PORT names the
// loopback address: the cookies lost Secure and their prefixed names, and
// a neighbour host's old-name session counted).
func (p *Pages) secure(r *http.Request) bool {
	return r.TLS != nil || p.publicHTTPS || !localhost.Is(requestHost(r))
}

// setSiteCookie writes a site-wide cookie (SessionCookie, KnownCookie;
// value "" with maxAge -1 ends it): for the whole site, and for the whole
// parent domain when cookie_domain is set (one sign-in for every app
// under it), the one place that says so. Where it is Secure it has its
// prefixed name, and the old name the request carries is expired as the
// gate wrote it: for the host, and for cookie_domain.
func (p *Pages) setSiteCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	known, name := name == KnownCookie, p.own(name)
	c := p.cookie(r, name, value, "/", maxAge)
	c.Domain = p.CookieDomain
	if c.Secure {
		c.Name = Prefixed(name, p.CookieDomain)
	}
	_, err := r.Cookie(name)
	switch {
	case c.Name != name && err == nil:
		p.expire(w, r, name, "")
		if p.CookieDomain != "" {
			p.expire(w, r, name, p.CookieDomain)
		}
	case c.Name == name && c.Domain != "" && known:
		// The host's own copy (written before the known-browser cookie
		// was for the domain) goes: the browser would send it first.
		p.expire(w, r, name, "")
	}
	http.SetCookie(w, c)
}

// expire ends the cookie name written for domain ("": the host alone),
// Path=/.
func (p *Pages) expire(w http.ResponseWriter, r *http.Request, name, domain string) {
	c := p.cookie(r, name, "", "/", -1)
	c.Domain = domain
	http.SetCookie(w, c)
}

// requestHost is the request's host, lower case, without port: only for
// what the client's own answer looks like (a Secure cookie or not), never
// for realms, messages or decisions about other users. It allocates
// nothing for a host in lower case (secure asks it on every request to
// the app that carries a session under its old name, as on localhost).
func requestHost(r *http.Request) string { return hostOnly(r.Host) }

// insecureURL reports whether the gate's cookies are not Secure at u:
// plain http at loopback.
func insecureURL(u *url.URL) bool {
	return strings.EqualFold(u.Scheme, "http") && localhost.Is(u.Hostname())
}

// hostOnly is host (a Host header's value) without its port, lower case.
func hostOnly(host string) string {
	if rest, ok := strings.CutPrefix(host, "["); ok {
		if end := strings.IndexByte(rest, ']'); end >= 0 {
			host = rest[:end]
		}
	} else if i := strings.IndexByte(host, ':'); i >= 0 && strings.IndexByte(host[i+1:], ':') < 0 {
		host = host[:i]
	}
	return strings.ToLower(host)
}

// ClientIP is the client's address as Caddy determined it: the peer, or
// what trusted proxies (the server's `trusted_proxies`) said — never a raw
// X-Forwarded-For.
func ClientIP(r *http.Request) string {
	ip, _ := caddyhttp.GetVar(r.Context(), caddyhttp.ClientIPVarKey).(string)
	if ip == "" {
		ip, _, _ = net.SplitHostPort(r.RemoteAddr)
	}
	return ip
}

// fresh reports whether the code behind a session was entered within
// maxAge (0: any age will do) — per-route step-up.
func (p *Pages) fresh(cl *session.Claims, maxAge time.Duration) bool {
	return maxAge <= 0 || p.Now().Sub(time.Unix(cl.AuthTime, 0)) <= maxAge
}

// freshForChange reports whether a session's code is recent enough to
// change the user's devices: within step_up, and within the gate's
// max_age where that is shorter (else a sign-in the route no longer takes
// adds an app whose fresh code passes it).
func (p *Pages) freshForChange(cl *session.Claims) bool {
	return p.fresh(cl, p.StepUp) && p.fresh(cl, p.MaxAge)
}

// CheckCookieDomain refuses a cookie_domain browsers would not honour for
// this site (the session cookie would never come back: no one could sign
// in): a public suffix, or a domain the site is not under. origins are the
// site's (public_origin, site_origin): the first set is the one checked.
func CheckCookieDomain(d string, origins ...string) error {
	if d == "" {
		return nil
	}
	if strings.ContainsAny(d, ":/ ") {
		return fmt.Errorf("cookie_domain must be a domain such as example.com, not %q", d)
	}
	if ps, _ := publicsuffix.PublicSuffix(d); ps == d && !localhost.Is(d) {
		return fmt.Errorf("cookie_domain %s is a public suffix: browsers refuse a cookie for all of it; name your own domain", d)
	}
	for _, origin := range origins {
		u, err := url.Parse(origin)
		if origin == "" || err != nil || u.Hostname() == "" {
			continue
		}
		host := cfutil.ASCIIHost(strings.ToLower(u.Hostname())) // as d is taken, and as browsers match it
		if host != d && !strings.HasSuffix(host, "."+d) {
			return fmt.Errorf("cookie_domain %s does not cover this site (%s): browsers would drop the session cookie, and no one could sign in", d, host)
		}
		break
	}
	return nil
}
