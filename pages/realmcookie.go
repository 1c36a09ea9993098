package pages

import (
	"crypto/sha256"
	"encoding/hex"
	"iter"
	"net/http"
	"net/url"
	"strings"

	"github.com/smsgate/caddy-smsgate/internal/cfutil"
	"github.com/smsgate/caddy-smsgate/internal/cookies"
)

// Two realms on one host keep a session each: a gate whose realm is not
// its site's default has its own session and known-browser cookies (the
// shared names with realmTag), so that a sign-in at one realm's gate
// (an /admin of its own, as the realm warning asks) no longer replaces
// the other's in the browser. The default realm keeps the names it always
// had: an upgrade signs no one out, and the gates of one realm on one
// host share their cookies as before.

// cookieNames are the names a gate reads its site-wide cookies by, first
// to last: the one it writes where Secure (Prefixed), its old one (the
// name without the prefix, written on plain http at loopback), and for a
// realm of its own the shared names it wrote before this release (Pages.oldCounts).
type cookieNames struct {
	session, known []string
}

// namesFor is the cookies' names for a gate of config c.
func namesFor(c Config) cookieNames {
	names := func(shared string) []string {
		own := shared
		if ownCookies(c) {
			own += realmTag(c.Realm)
		}
		list := []string{Prefixed(own, c.CookieDomain), own}
		if own != shared {
			list = append(list, Prefixed(shared, c.CookieDomain), shared)
		}
		return list
	}
	return cookieNames{session: names(SessionCookie), known: names(KnownCookie)}
}

// cookiesUnder yields r's cookies under names (a cookieNames list), name
// by name in its order, each with its name's index: a browser may hold
// several under one name, and under several names. Read once for every
// name.
func cookiesUnder(r *http.Request, names []string) iter.Seq2[int, *http.Cookie] {
	return func(yield func(int, *http.Cookie) bool) {
		all := r.Cookies()
		for i, name := range names {
			for _, c := range all {
				if c.Name == name && !yield(i, c) {
					return
				}
			}
		}
	}
}

// realmTag is what a realm of its own adds to its cookies' names: "_" and
// 12 hex digits of the realm's SHA-256. A realm is free text (spaces, ';',
// '=', letters of any script: none may be in a cookie name); a sanitized
// form would give realms that differ only there one name, sharing again.
// A hash is a valid cookie name for every realm, the same on every
// instance and release, and short: two realms alike by chance, 2⁻⁴⁸.
func realmTag(realm string) string {
	sum := sha256.Sum256([]byte(realm))
	return "_" + hex.EncodeToString(sum[:cookies.TagDigits/2]) // stripped by its length (GateCookies)
}

// OwnSessionCookie is the session cookie's name (where not Secure: see
// Prefixed) at a gate whose realm is not its site's default (ownCookies).
func OwnSessionCookie(realm string) string { return SessionCookie + realmTag(realm) }

// ownCookies reports whether the gate's realm is not its site's default:
// the site's host name (the realm a Caddyfile gives a site of one host
// name, whose origin it writes as site_origin) or public_origin's host;
// with a cookie_domain, the domain alone (a realm across hosts, as the
// README sets it up), so that every gate of the realm under it, whatever
// its host, names its cookies alike. A gate that knows no origin (JSON
// without site_origin, a site of several names) cannot tell, and keeps
// the shared names.
func ownCookies(c Config) bool {
	if c.CookieDomain != "" {
		return hostForm(c.Realm) != hostForm(c.CookieDomain)
	}
	known := false
	for _, o := range []string{c.SiteOrigin, c.PublicOrigin} {
		if u, err := url.Parse(o); o != "" && err == nil && u.Hostname() != "" {
			known = true
			if hostForm(u.Hostname()) == hostForm(c.Realm) {
				return false
			}
		}
	}
	return known
}

// hostForm is a host name as browsers send it, to compare.
func hostForm(host string) string {
	return cfutil.ASCIIHost(strings.ToLower(strings.TrimSuffix(host, ".")))
}

// own is the name the gate writes for a site-wide cookie of the shared
// name (SessionCookie, KnownCookie) where it is not Secure: its realm's.
func (p *Pages) own(name string) string {
	if name == KnownCookie {
		return p.names.known[1]
	}
	return p.names.session[1]
}

// renamed reports whether a cookie found under the old name (one that
// counts) is renamed in the answer: where Secure, and a shared name
// anywhere (on plain http at loopback a realm of its own writes its own).
func (p *Pages) renamed(name string, sec bool) bool {
	return sec || p.names.shared(name)
}

// shared reports whether name is one of the shared names a realm of its
// own reads (past its own two; the default realm reads none: a length
// read, on every request to the app with a cookie of the old name).
func (n *cookieNames) shared(name string) bool {
	return len(n.session) > 2 && (name == n.session[2] || name == n.session[3] || name == n.known[2] || name == n.known[3])
}

// expireShared ends the shared name (name) of a realm of its own's cookie
// once renamed (its token verified for this realm: this realm's), as the
// gate wrote it: for the host, and for cookie_domain.
func (p *Pages) expireShared(w http.ResponseWriter, r *http.Request, name string) {
	if !p.names.shared(name) {
		return
	}
	c := p.cookie(r, name, "", "/", -1)
	c.Secure = c.Secure || name != SessionCookie && name != KnownCookie
	if !strings.HasPrefix(name, HostPrefix) {
		c.Domain = p.CookieDomain
		if c.Domain != "" && !strings.HasPrefix(name, SecurePrefix) {
			p.expire(w, r, name, "")
		}
	}
	http.SetCookie(w, c)
}
