package caddymodule

import (
	"cmp"
	"errors"

	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"

	"github.com/smsgate/caddy-smsgate/providers"
	"github.com/smsgate/caddy-smsgate/siteblock"
	"github.com/smsgate/caddy-smsgate/store"
)

// The directive: a gate learns from the Caddyfile site block it is in its
// realm and its own address, and the mistakes only the site shows are
// checked there (package siteblock), each named by its line.

// parseDirective parses `smsgate [<matcher>] { … }` as Caddy's
// RegisterHandlerDirective would, keeping the matcher for the checks of
// where the gate sits.
func parseDirective(h httpcaddyfile.Helper) ([]httpcaddyfile.ConfigValue, error) {
	if !h.Next() {
		return nil, h.ArgErr()
	}
	matcher, err := h.ExtractMatcherSet()
	if err != nil {
		return nil, err
	}
	g := new(Gate)
	if err := g.UnmarshalCaddyfile(h.Dispenser); err != nil {
		return nil, err
	}
	site := siteblock.Of(h)
	if origin, ok := site.Origin(); ok && g.SiteOrigin == "" {
		g.SiteOrigin = origin
	}
	written := g.Realm != ""
	if !written {
		name, ok := site.Host()
		if !ok {
			return nil, g.errAt("", errors.New("smsgate: this site does not have exactly one host name, so the realm cannot come from it: set realm (e.g. realm example.com); a realm is never taken from a request's Host header"))
		}
		g.Realm = name
	}
	sg := g.siteGate(written)
	if err := cmp.Or(site.CheckRealm(sg), site.CheckClientCert(sg)); err != nil {
		return nil, err
	}
	place := site.Place(sg)
	if err := place.CheckIdentity(sg); err != nil {
		return nil, err
	}
	g.IdentityFrom = sg.IdentityFrom
	if err := g.checkConfig(); err != nil {
		return nil, err
	}
	if err := place.CheckReach(sg, matcher); err != nil {
		return nil, err
	}
	if err := place.CheckPrefix(sg); err != nil {
		return nil, err
	}
	return h.NewRoute(matcher, g), nil
}

// siteGate is what the site's checks read of the gate's config.
func (g *Gate) siteGate(realmWritten bool) *siteblock.Gate {
	identity := cmp.Or(g.Identity, DefaultIdentity)
	var headers []string
	for _, th := range siteblock.TrustedHeaders(identity, nil) {
		headers = append(headers, th.Name)
	}
	return &siteblock.Gate{Token: g.run.lines[""], Realm: g.Realm, RealmWritten: realmWritten,
		Identity: identity, Headers: headers, IdentityFrom: g.IdentityFrom,
		Prefix: cmp.Or(g.PathPrefix, DefaultPathPrefix), DefaultPrefix: DefaultPathPrefix, Line: g.run.lines.Of}
}

// checkConfig runs check (check.go), load (provision.go: what this machine
// holds of it, one not there a warning) and the providers' own checks on a
// copy of the gate with its defaults, for a running gate that knows only
// the lines, so that the adapted config stays as written; a mistake is
// reported at its option's line.
func (g *Gate) checkConfig() error {
	c, run := g.withDefaults(), &gate{lines: g.run.lines}
	err, warn := run.check(c), func(err error) { siteblock.WarnAt(g.run.lines.At(err), err) }
	// Then providers and store (opening nothing), each once the one before passed.
	if err == nil {
		err = run.load(c, new(settled), warn)
	}
	if err == nil {
		err = providers.CheckResolved(c.ProvidersRaw, warn)
	}
	if err == nil {
		err = store.Check(g.StoreRaw, warn)
	}
	return siteblock.ErrAt(g.run.lines.At(err), err)
}

// errAt is err at the line of option key.
func (g *Gate) errAt(key string, err error) error {
	return siteblock.ErrAt(g.run.lines.Of(key), err)
}
