package caddymodule

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
)

// The mistakes only the Caddyfile shows — how a gate sits in its site and
// beside other sites — refused with their line, or warned about where
// they may be meant. Each once failed silently: a gate that refuses
// everyone, pages nobody reaches, sessions shared by accident, a header
// believed from anyone.

// checkSite checks the gate in its site block, then its config.
func (g *Gate) checkSite(h httpcaddyfile.Helper, matcher caddy.ModuleMap, explicit bool) error {
	if err := g.checkRealmShared(h, explicit); err != nil {
		return err
	}
	p, known := placementOf(h, g.lines[""])
	if known {
		if err := g.checkIdentitySource(h, p); err != nil {
			return err
		}
	}
	if err := g.checkConfig(); err != nil {
		return err
	}
	if !known {
		return nil
	}
	if err := g.checkReach(h, p, matcher); err != nil {
		return err
	}
	return g.checkPrefix(h, p)
}

// realmUse is where a realm was first given to a gate.
type realmUse struct {
	site     string
	explicit bool
	tok      caddyfile.Token
}

// checkRealmShared refuses two sites whose gates got one realm by
// accident: browsers send a host's cookies to every port of it, so each
// would take the other's sessions. Only the same realm written in both is
// a choice.
func (g *Gate) checkRealmShared(h httpcaddyfile.Helper, explicit bool) error {
	site := strings.Join(siteKeys(h), ", ")
	if site == "" || h.State == nil {
		return nil
	}
	uses, _ := h.State["smsgate.realms"].(map[string]realmUse)
	if uses == nil {
		uses = map[string]realmUse{}
		h.State["smsgate.realms"] = uses
	}
	prev, ok := uses[g.Realm]
	if !ok {
		uses[g.Realm] = realmUse{site: site, explicit: explicit, tok: g.lineOf("realm")}
		return nil
	}
	if prev.site == site || (prev.explicit && explicit) {
		return nil
	}
	return g.errAt("realm", fmt.Errorf("realm %s is also the realm of the gate of site %s (%s:%d): browsers send a host's cookies to all its ports, so each site would take the other's sessions. To share sessions on purpose, write `realm %s` in both; otherwise give each its own realm",
		g.Realm, prev.site, prev.tok.File, prev.tok.Line, g.Realm))
}

// checkIdentitySource checks that what the identity reads is set before
// the gate runs: basic_auth for {http.auth.user.*}, a forward_auth copying
// the header (or trusted_proxies) for a header. It notes the headers a
// forward_auth renames into the identity's (IdentityFrom).
func (g *Gate) checkIdentitySource(h httpcaddyfile.Helper, p *placement) error {
	identity := cmp.Or(g.Identity, DefaultIdentity)
	if identity == IdentityNone {
		return nil
	}
	if strings.Contains(identity, "{http.auth.user.") {
		if late := firstNamed(p.after, "basic_auth", "basicauth"); late != nil {
			return g.errAt("identity", fmt.Errorf("smsgate runs before basic_auth (%s:%d), so it never sees who signed in and refuses everyone: put basic_auth first (in a route block, above smsgate), or drop the order option that moved smsgate",
				late.first().File, late.first().Line))
		}
		if firstNamed(p.before, "basic_auth", "basicauth") == nil {
			warn(h, g.lines[""], "identity %s: no basic_auth runs before smsgate on its way; unless another authentication handler sets it, every request is refused", identity)
		}
	}
	for _, th := range trustedHeaders(identity, nil) {
		var sources []*directive
		for _, fa := range p.before {
			if fa.name != "forward_auth" {
				continue
			}
			if from, ok := copiesHeader(fa, th.name); ok {
				sources = append(sources, fa)
				if from != th.name && !slices.Contains(g.IdentityFrom, from) {
					g.IdentityFrom = append(g.IdentityFrom, from)
				}
			}
		}
		for _, fa := range p.after {
			if _, ok := copiesHeader(fa, th.name); ok && fa.name == "forward_auth" {
				return g.errAt("identity", fmt.Errorf("forward_auth (%s:%d) sets %s after smsgate has read it: put forward_auth first", fa.first().File, fa.first().Line, th.name))
			}
		}
		if len(sources) == 0 && !trustedProxies(h) {
			return g.errAt("identity", fmt.Errorf("identity %s: nothing in front of smsgate sets %s, so any client could send it and be anyone. Add `forward_auth … { copy_headers %s }` before smsgate (it replaces the client's copy), or, when a proxy in front sets it, list that proxy in the global `servers { trusted_proxies … }`",
				identity, th.name, th.name))
		}
		for _, fa := range sources {
			if args := fa.args; len(args) > 0 && (strings.HasPrefix(args[0], "@") || strings.HasPrefix(args[0], "/")) {
				warn(h, fa.first(), "forward_auth %s does not run for every request; where it does not, %s names nobody and smsgate refuses the request", args[0], th.name)
			}
		}
	}
	return nil
}

// copiesHeader reports whether forward_auth d sets header (canonical) on
// the request, and from which header of the auth answer.
func copiesHeader(d *directive, header string) (from string, ok bool) {
	disp := caddyfile.NewDispenser(d.seg)
	disp.Next()
	disp.RemainingArgs()
	for disp.NextBlock(0) {
		if disp.Val() != "copy_headers" {
			continue
		}
		args := disp.RemainingArgs()
		for nesting := disp.Nesting(); disp.NextBlock(nesting); {
			args = append(args, disp.Val())
		}
		for _, a := range args {
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

// checkReach refuses a gate whose pages a request cannot reach: its own
// matcher, or a block it is in, leaves <prefix>login to other handlers
// (so every visitor is sent to a page that is not the gate's), or it sits
// in handle_path (which strips the path its pages and redirects need).
func (g *Gate) checkReach(h httpcaddyfile.Helper, p *placement, matcher caddy.ModuleMap) error {
	login := cmp.Or(g.PathPrefix, DefaultPathPrefix) + "login"
	for _, d := range p.path {
		if d.name == "handle_path" {
			return errAtToken(d.first(), fmt.Errorf("smsgate is inside handle_path, which strips the path its pages and its redirects to them need: use handle instead"))
		}
		if set, ok := matcherOf(h, d); ok && matchesPath(set, login) == no {
			return errAtToken(d.first(), fmt.Errorf("%s %s leaves %s to other handlers, so smsgate's pages are never served and every visitor is sent to a page that is not there: let it match %s* too",
				d.name, d.args[0], login, cmp.Or(g.PathPrefix, DefaultPathPrefix)))
		}
	}
	if matcher != nil && matchesPath(matcher, login) == no {
		return g.errAt("", fmt.Errorf("smsgate's matcher leaves %s to other handlers, so its pages are never served and every visitor is sent to a page that is not there: let the matcher match %s* too",
			login, cmp.Or(g.PathPrefix, DefaultPathPrefix)))
	}
	return nil
}

// checkPrefix refuses a path_prefix that takes over paths the site routes
// to the app, and warns about one that may (no dot segment: /api/, /auth/).
func (g *Gate) checkPrefix(h httpcaddyfile.Helper, p *placement) error {
	prefix := g.PathPrefix
	if prefix == "" || prefix == DefaultPathPrefix {
		return nil
	}
	for _, d := range p.all {
		if slices.Contains(p.path, d) || d.name == "smsgate" {
			continue
		}
		var patterns []string
		if set, ok := matcherOf(h, d); ok {
			patterns = pathsOf(set)
		} else if args := d.args; len(args) > 0 && strings.HasPrefix(args[0], "/") {
			patterns = args[:1]
		}
		for _, pat := range patterns {
			if lit := literal(pat); strings.HasPrefix(lit, prefix) || lit == strings.TrimSuffix(prefix, "/") {
				return g.errAt("path_prefix", fmt.Errorf("path_prefix %s takes every path under it, but %s %s (%s:%d) routes paths there to the app, which would never see them: choose a prefix the app does not use, such as %s",
					prefix, d.name, pat, d.first().File, d.first().Line, DefaultPathPrefix))
			}
		}
	}
	if !strings.Contains(prefix, "/.") {
		warn(h, g.lineOf("path_prefix"), "path_prefix %s: every path under it is the gate's (its pages, or 404), never the app's; a prefix with a dot segment, such as /.auth/, cannot collide with an app's paths", prefix)
	}
	return nil
}
