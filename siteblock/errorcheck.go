package siteblock

import (
	"fmt"
	"slices"
)

// errorSite is what the gate's site serves with, as CheckErrorRoutes
// reads it: the app (its upstreams, DialKey, and the named routes it
// invokes), its upstreams as written (whyTheApp), whether it serves files
// and where they are (rootsOf; none named: Caddy's own folder).
type errorSite struct {
	p           *Placement
	m           *Machine
	app         map[string]bool
	written     []string
	servesFiles bool
	trees       []string
}

// servedWith is what the gate's site serves with (errorSite).
func (p *Placement) servedWith() *errorSite {
	s := &errorSite{p: p, m: ThisMachine(), app: map[string]bool{}}
	for _, d := range p.all {
		ups := upstreams(d)
		if name := invoked(d); name != "" {
			s.app["invoke "+name] = true // a named route the site serves with: the app
			ups = append(ups, p.namedUpstreams(name)...)
		}
		for _, up := range ups {
			s.app[s.m.DialKey(up)] = true
		}
		s.written = append(s.written, ups...)
		s.servesFiles = s.servesFiles || d.name == "file_server" || d.name == "php_fastcgi" // its own file_server
		s.trees = append(s.trees, rootsOf(d)...)
	}
	if len(s.trees) == 0 {
		s.trees = []string{"."} // Caddy's own folder
	}
	return s
}

// errorCheck is a handle_errors that takes the gate's refusals, as
// CheckErrorRoutes checks it: of another site block (site, "" for the
// gate's own), the paths refused (gate: none known where its block moves
// the path), its path matchers (defs), whether a directive under one is
// the start check's to judge (toStart), and how a refusal names it.
type errorCheck struct {
	*errorSite
	site             string
	gate             [][]string
	defs             map[string][]string
	toStart          bool
	who, codes, hint string
}

// check refuses a directive of list, or within one, that hands the gate's
// refusals to the app (toTheApp). A move in a block, or in a block within
// it that every request enters (movesAll), moves what each file_server
// there and below serves; one under a matcher, for those it matches only.
// One under a path matcher no refused path matches (pathsOn, around it
// too: on) never sees a refusal.
func (c *errorCheck) check(list []*directive, moved bool, on [][]string) error {
	moved = moved || slices.ContainsFunc(list, func(d *directive) bool { return movesAll(d, c.trees) })
	for _, in := range list {
		here := append(slices.Clone(on), c.p.pathsOn(in, c.defs, c.site == "")...)
		if apartPaths(c.gate, here) || c.toStart && len(here) > 0 {
			continue
		}
		if err := c.toTheApp(in, moved); err != nil {
			return err
		}
		if err := c.check(in.inner, moved, here); err != nil {
			return err
		}
	}
	return nil
}

// toTheApp refuses in, a directive that sees the gate's refusals (moved:
// at another path than the one refused), where it hands them to the app:
// a proxy to one of its upstreams, an invoke of a named route the site
// serves with or one that proxies to the app, a file_server serving the
// site's files at the path refused.
func (c *errorCheck) toTheApp(in *directive, moved bool) error {
	for _, up := range upstreams(in) {
		if c.m.SameApp(c.app, up) {
			return errAt(in.first(), fmt.Errorf("%s hands the gate's refusals (%s) to %s, the app smsgate protects%s: every refused request would reach it unauthenticated.%s%s", c.who, c.codes, up, c.m.whyTheApp(up, c.written), toApp, c.hint))
		}
	}
	if name := invoked(in); name != "" && c.app["invoke "+name] {
		return errAt(in.first(), fmt.Errorf("%s hands the gate's refusals (%s) to the route %s, which the site serves its requests with: every refused request would reach the app unauthenticated.%s%s", c.who, c.codes, name, toApp, c.hint))
	}
	for _, up := range c.p.namedUpstreams(invoked(in)) {
		if c.m.SameApp(c.app, up) {
			return errAt(in.first(), fmt.Errorf("%s hands the gate's refusals (%s) to %s (route %s), the app smsgate protects%s: every refused request would reach it unauthenticated.%s%s", c.who, c.codes, up, invoked(in), c.m.whyTheApp(up, c.written), toApp, c.hint))
		}
	}
	ownRoot := slices.ContainsFunc(inner(in.seg), func(l []token) bool { // another tree, as a root line
		return l[0].text == "root" && (len(l) < 2 || !HoldsTree(c.trees, l[1].text))
	})
	if in.name == "file_server" && c.servesFiles && !moved && !ownRoot {
		return errAt(in.first(), fmt.Errorf("%s serves the gate's refusals (%s) with file_server at the path refused, from the files smsgate protects: each would go out in the refusal's body. Serve an error page (rewrite * /{err.status_code}.html), or answer the gate's refusals there itself (respond)%s", c.who, c.codes, c.hint))
	}
	return nil
}
