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

	"github.com/smsgate/caddy-smsgate/internal/localhost"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/signin"
)

// The gate's cookies. The module takes all of them off a request before it
// passes it on: the session and a trusted browser's are bearer tokens.
const (
	SessionCookie = "smsgate_session"
	FlowCookie    = "smsgate_flow"
	// KnownCookie marks a browser that signed in before (see rememberBrowser).
	KnownCookie = "smsgate_known"
	// TrustCookie is a trusted browser's (see trusted.go).
	TrustCookie = "smsgate_trust"
)

// session is the verified claims of the request's session cookie, or nil
// — nil too for a session earned with a kind this gate does not take (its
// factors dropped it): it is no session here, for the devices page, a
// step-up or the console (signin.Policy.Earned).
func (p *Pages) session(r *http.Request) *session.Claims {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return nil
	}
	if cl := p.Sessions.Check(r.Context(), c.Value); cl != nil && p.Policy.Earned(cl.AMR) {
		return cl
	}
	return nil
}

// live is cl's session's signin.Live: asked again, in the store, once a
// change it let in is written.
func (p *Pages) live(cl *session.Claims) signin.Live {
	return func(ctx context.Context) (bool, error) { return p.Sessions.Live(ctx, cl) }
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
func (p *Pages) setSessionCookie(w http.ResponseWriter, r *http.Request, value string, maxAge int) {
	c := cookie(r, SessionCookie, value, "/", maxAge)
	c.Domain = p.CookieDomain
	http.SetCookie(w, c)
}

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
		if host := strings.ToLower(u.Hostname()); host != d && !strings.HasSuffix(host, "."+d) {
			return fmt.Errorf("cookie_domain %s does not cover this site (%s): browsers would drop the session cookie, and no one could sign in", d, host)
		}
		break
	}
	return nil
}
