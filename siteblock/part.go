package siteblock

import (
	"slices"

	"github.com/caddyserver/caddy/v2"
)

// warnPart warns of a gate that protects only some paths of a site whose
// other routes proxy the rest to a backend: a handle (or route) around
// the gate, or the gate's own matcher, that leaves / to other handlers
// (handle @admin { smsgate … } beside a public handle). Caddy matches the
// path as it came, and a backend may read it otherwise: Tomcat and Spring
// drop path parameters, so GET /admin;x/y misses /admin/*, goes to the
// public route ungated, and is served as /admin/y. A warning, not a
// refusal: a backend that reads paths as Caddy does is safe so.
func (p *Placement) warnPart(g *Gate, matcher caddy.ModuleMap) {
	for _, d := range p.path {
		if set, ok := p.b.matcherOf(d); ok && len(d.args) > 0 && matchesPath(set, "/") == no && p.proxiesBeside(d) {
			warn(d.first().caddyToken(), partWarning, d.name+" "+d.args[0])
			return
		}
	}
	if matcher != nil && matchesPath(matcher, "/") == no && p.proxiesBeside(nil) {
		warn(g.Token, partWarning, "smsgate's matcher")
	}
}

const partWarning = "%s protects only the paths it matches, and the site proxies the others to a backend without the gate: a backend that reads a path otherwise than Caddy (Tomcat and Spring drop path parameters, so /admin;x/y is their /admin/y) serves protected pages to anyone. Protect the whole site (smsgate for every path, the public ones under a matcher of their own), or match paths as the backend reads them"

// proxiesBeside reports whether the site proxies to a backend
// (reverse_proxy, php_fastcgi) outside block (nil: anywhere).
func (p *Placement) proxiesBeside(block *directive) bool {
	var in []*directive
	var walk func(d *directive)
	walk = func(d *directive) {
		in = append(in, d)
		for _, c := range d.inner {
			walk(c)
		}
	}
	if block != nil {
		walk(block)
	}
	return slices.ContainsFunc(p.all, func(d *directive) bool {
		return (d.name == "reverse_proxy" || d.name == "php_fastcgi") && !slices.Contains(in, d)
	})
}
