package siteblock

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

// The mistakes only the Caddyfile shows — how a gate sits in its site and
// beside other sites — refused with their line, or warned about where
// they may be meant. Each once failed silently: a gate that refuses
// everyone, pages nobody reaches, sessions shared by accident, a header
// believed from anyone.

// Gate is what the checks read of a gate's config.
type Gate struct {
	// Token is the directive's own (smsgate), for its file and line.
	Token caddyfile.Token
	// Realm is the gate's realm; RealmWritten says the Caddyfile wrote it
	// (it was not taken from the site's host name).
	Realm        string
	RealmWritten bool
	// Identity is where the user's name comes from (its default filled
	// in, or "none"); Headers are the request headers it reads
	// (canonical), and IdentityFrom the auth answer's headers one may be
	// copied from: CheckIdentity adds those the site's forward_auth renames.
	Identity     string
	Headers      []string
	IdentityFrom []string
	// Prefix is where the gate's pages are, and DefaultPrefix where they
	// are unless path_prefix moves them.
	Prefix, DefaultPrefix string
	// Line is where option key was written (the directive's line when it
	// was not).
	Line func(key string) caddyfile.Token
}

// errAt is err at the line of option key.
func (g *Gate) errAt(key string, err error) error { return ErrAt(g.Line(key), err) }

// realmUse is where a realm was first given to a gate.
type realmUse struct {
	site     string
	explicit bool
	tok      caddyfile.Token
}

// CheckRealm refuses two sites whose gates got one realm by accident:
// browsers send a host's cookies to every port of it, so each would take
// the other's sessions. Only the same realm written in both is a choice.
func (b *Block) CheckRealm(g *Gate) error {
	site := strings.Join(b.keys, ", ")
	if site == "" || b.h.State == nil {
		return nil
	}
	uses, _ := b.h.State["smsgate.realms"].(map[string]realmUse)
	if uses == nil {
		uses = map[string]realmUse{}
		b.h.State["smsgate.realms"] = uses
	}
	prev, ok := uses[g.Realm]
	if !ok {
		uses[g.Realm] = realmUse{site: site, explicit: g.RealmWritten, tok: g.Line("realm")}
		return nil
	}
	if prev.site == site || (prev.explicit && g.RealmWritten) {
		return nil
	}
	return g.errAt("realm", fmt.Errorf("realm %s is also the realm of the gate of site %s (%s:%d): browsers send a host's cookies to all its ports, so each site would take the other's sessions. To share sessions on purpose, write `realm %s` in both; otherwise give each its own realm",
		g.Realm, prev.site, prev.tok.File, prev.tok.Line, g.Realm))
}

// Placement is where a gate sits in its site block; nil when that cannot
// be read (every check on it then passes).
type Placement struct {
	b *Block
	*placement
}

// Place finds the gate in its site block.
func (b *Block) Place(g *Gate) *Placement {
	p, ok := b.place(g.Token.File, g.Token.Line)
	if !ok {
		return nil
	}
	return &Placement{b, p}
}

// CheckIdentity checks that what the identity reads is set before the
// gate runs: basic_auth for {http.auth.user.*}, a forward_auth copying
// the header (or trusted_proxies) for a header. It adds to IdentityFrom
// the headers a forward_auth renames into the identity's.
func (p *Placement) CheckIdentity(g *Gate) error {
	if p == nil || g.Identity == "none" {
		return nil
	}
	if t, ok := p.b.identitySetter(); ok {
		return errAt(t, fmt.Errorf("%s writes a placeholder the gate's identity %s is read from or checked by: where no handler set it first, the client chooses whom the gate takes the request for; name it another placeholder that nothing reads as an identity, or set the identity only from an authentication handler",
			t.text, g.Identity))
	}
	if strings.Contains(g.Identity, "{http.auth.user.") {
		if late := firstNamed(p.after, "basic_auth", "basicauth"); late != nil {
			return g.errAt("identity", fmt.Errorf("smsgate runs before basic_auth (%s:%d), so it never sees who signed in and refuses everyone: put basic_auth first (in a route block, above smsgate), or drop the order option that moved smsgate",
				late.first().file, late.first().line))
		}
		if firstNamed(p.before, "basic_auth", "basicauth") == nil {
			warn(g.Token, "identity %s: no basic_auth runs before smsgate on its way; unless another authentication handler sets it, every request is refused", g.Identity)
		}
	}
	for _, header := range g.Headers {
		var sources []*directive
		for _, fa := range p.before {
			if fa.name != "forward_auth" {
				continue
			}
			if from, ok := copiesHeader(fa, header); ok {
				sources = append(sources, fa)
				if from != header && !slices.Contains(g.IdentityFrom, from) {
					g.IdentityFrom = append(g.IdentityFrom, from)
				}
			}
		}
		for _, fa := range p.after {
			if _, ok := copiesHeader(fa, header); ok && fa.name == "forward_auth" {
				return g.errAt("identity", fmt.Errorf("forward_auth (%s:%d) sets %s after smsgate has read it: put forward_auth first", fa.first().file, fa.first().line, header))
			}
		}
		if len(sources) == 0 && !trustedProxies(p.b.h) {
			return g.errAt("identity", fmt.Errorf("identity %s: nothing in front of smsgate sets %s, so any client could send it and be anyone. Add `forward_auth … { copy_headers %s }` before smsgate (it replaces the client's copy), or, when a proxy in front sets it, list that proxy in the global `servers { trusted_proxies … }`",
				g.Identity, header, header))
		}
		for _, fa := range sources {
			if args := fa.args; len(args) > 0 && (strings.HasPrefix(args[0], "@") || strings.HasPrefix(args[0], "/")) {
				warn(fa.first().caddyToken(), "forward_auth %s does not run for every request; where it does not, %s names nobody and smsgate refuses the request", args[0], header)
			}
		}
	}
	return nil
}

// copiesHeader reports whether forward_auth d sets header (canonical) on
// the request, and from which header of the auth answer.
func copiesHeader(d *directive, header string) (from string, ok bool) {
	for _, stmt := range inner(d.seg) {
		if stmt[0].text != "copy_headers" {
			continue
		}
		names := args(stmt)
		for _, line := range inner(stmt) {
			for _, t := range line {
				names = append(names, t.text)
			}
		}
		for _, a := range names {
			src, dst, renamed := strings.Cut(a, ">")
			if !renamed {
				dst = src
			}
			if http.CanonicalHeaderKey(dst) == header {
				return http.CanonicalHeaderKey(src), true
			}
		}
	}
	return "", false
}

func firstNamed(list []*directive, names ...string) *directive {
	for _, d := range list {
		if slices.Contains(names, d.name) {
			return d
		}
	}
	return nil
}

// CheckReach refuses a gate whose pages a request cannot reach: its own
// matcher, or a block it is in, leaves <prefix>login to other handlers
// (so every visitor is sent to a page that is not the gate's), as may its
// site's address (example.com/admin/*: addressPaths), or it sits
// in handle_path (which strips the path its pages and redirects need);
// and one whose refusals a handle_errors hands to the app
// (CheckErrorRoutes). It warns of a gate that protects only some paths
// beside a proxied rest (warnPart).
func (p *Placement) CheckReach(g *Gate, matcher caddy.ModuleMap) error {
	if p == nil {
		return nil
	}
	if err := p.CheckErrorRoutes(matcher); err != nil {
		return err
	}
	login := g.Prefix + "login"
	for _, d := range p.before {
		if end := p.answersAll(d, login); end != nil {
			return errAt(end.first(), fmt.Errorf("%s answers every request before smsgate (%s:%d) runs, so the gate never runs and protects nothing: put smsgate above it (in a route block, order is as written), or drop the order option that moved smsgate",
				end.name, g.Token.File, g.Token.Line))
		}
	}
	for _, d := range p.path {
		if d.name == "handle_path" {
			return errAt(d.first(), fmt.Errorf("smsgate is inside handle_path, which strips the path its pages and its redirects to them need: use handle instead"))
		}
		if set, ok := p.b.matcherOf(d); ok && matchesPath(set, login) == no {
			return errAt(d.first(), fmt.Errorf("%s %s leaves %s to other handlers, so smsgate's pages are never served and every visitor is sent to a page that is not there: let it match %s* too",
				d.name, d.args[0], login, g.Prefix))
		}
	}
	if paths := p.b.addressPaths(); paths != nil && !slices.ContainsFunc(paths, func(a string) bool { return !patternsApart(a, login) }) {
		return g.errAt("path_prefix", fmt.Errorf("the site's address %s leaves %s to other sites, so smsgate's pages are never served and every visitor is sent to a page that is not there: put them under it, such as `path_prefix %s/.smsgate/`",
			strings.Join(p.b.keys, ", "), login, strings.TrimSuffix(literal(paths[0]), "/")))
	}
	if matcher != nil && matchesPath(matcher, login) == no {
		return g.errAt("", fmt.Errorf("smsgate's matcher leaves %s to other handlers, so its pages are never served and every visitor is sent to a page that is not there: let the matcher match %s* too",
			login, g.Prefix))
	}
	p.warnPart(g, matcher)
	return nil
}

// answering are the handlers that answer a request themselves: what runs
// after them never runs.
var answering = []string{"respond", "reverse_proxy", "php_fastcgi", "file_server", "static_response", "copy_response", "acme_server"}

// answersAll is d, or the directive of d's route that answers every
// request (a matcher that lets the gate's login through too), or nil.
func (p *Placement) answersAll(d *directive, login string) *directive {
	if !slices.Contains(answering, d.name) && d.name != "route" {
		return nil
	}
	if args := d.args; d.lost || len(args) > 0 && (strings.HasPrefix(args[0], "/") || strings.HasPrefix(args[0], "@")) {
		set, ok := p.b.matcherOf(d)
		if !ok || matchesPath(set, "/") != yes || matchesPath(set, login) != yes {
			return nil // a matcher that leaves some paths to the gate: a choice
		}
	}
	if d.name != "route" {
		return d
	}
	for _, in := range d.inner {
		if end := p.answersAll(in, login); end != nil {
			return end
		}
	}
	return nil
}

// CheckPrefix refuses a path_prefix that takes over paths the site routes
// to the app, and warns about one that may (no dot segment: /api/, /auth/).
func (p *Placement) CheckPrefix(g *Gate) error {
	prefix := g.Prefix
	if p == nil || prefix == g.DefaultPrefix {
		return nil
	}
	for _, d := range p.all {
		if slices.Contains(p.path, d) || d.name == "smsgate" {
			continue
		}
		var patterns []string
		if set, ok := p.b.matcherOf(d); ok {
			patterns = pathsOf(set)
		} else if args := d.args; len(args) > 0 && strings.HasPrefix(args[0], "/") {
			patterns = args[:1]
		}
		for _, pat := range patterns {
			if lit := literal(pat); strings.HasPrefix(lit, prefix) || lit == strings.TrimSuffix(prefix, "/") {
				return g.errAt("path_prefix", fmt.Errorf("path_prefix %s takes every path under it, but %s %s (%s:%d) routes paths there to the app, which would never see them: choose a prefix the app does not use, such as %s",
					prefix, d.name, pat, d.first().file, d.first().line, g.DefaultPrefix))
			}
		}
	}
	if !strings.Contains(prefix, "/.") {
		warn(g.Line("path_prefix"), "path_prefix %s: every path under it is the gate's (its pages, or 404), never the app's; a prefix with a dot segment, such as /.auth/, cannot collide with an app's paths", prefix)
	}
	return nil
}
