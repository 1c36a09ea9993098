package caddymodule

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"unsafe"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"go.uber.org/zap"
)

// What a gate learns from the Caddyfile site block it is in — its realm,
// its own address, where it sits (placement.go, sitecheck.go) — and the
// config mistakes it can name the line of.

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
	if origin, ok := siteOrigin(h); ok && g.SiteOrigin == "" {
		g.SiteOrigin = origin
	}
	explicit := g.Realm != ""
	if !explicit {
		name, ok := siteHost(h)
		if !ok {
			return nil, g.errAt("", errors.New("smsgate: this site does not have exactly one host name, so the realm cannot come from it: set realm (e.g. realm example.com); a realm is never taken from a request's Host header"))
		}
		g.Realm = name
	}
	if err := g.checkSite(h, matcher, explicit); err != nil {
		return nil, err
	}
	return h.NewRoute(matcher, g), nil
}

// checkConfig runs check (check.go) on a copy of the gate with its
// defaults, so that the adapted config stays as written; a mistake is
// reported at its option's line.
func (g *Gate) checkConfig() error {
	c := *g
	c.setDefaults()
	if err := c.check(); err != nil {
		var oe *optionError
		if errors.As(err, &oe) {
			return g.errAt(oe.key, err)
		}
		return g.errAt("", err)
	}
	return nil
}

// lineOf is where option key was written: the option itself, the first of
// its kind (allowed_regions sms for allowed_regions), or the directive.
func (g *Gate) lineOf(key string) caddyfile.Token {
	if tok, ok := g.lines[key]; ok {
		return tok
	}
	var found *caddyfile.Token
	for k, tok := range g.lines {
		if k != "" && strings.HasPrefix(k, key+" ") && (found == nil || tok.Line < found.Line) {
			found = &tok
		}
	}
	if found != nil {
		return *found
	}
	return g.lines[""]
}

// errAt is err at the line of option key.
func (g *Gate) errAt(key string, err error) error {
	return errAtToken(g.lineOf(key), err)
}

func errAtToken(tok caddyfile.Token, err error) error {
	d := caddyfile.NewDispenser([]caddyfile.Token{tok})
	d.Next()
	return d.WrapErr(err)
}

// warn adds a warning to the Caddyfile adapter's, at tok: `caddy adapt`
// prints it, `caddy run` logs it with its file and line, the admin API's
// /load answers with it.
func warn(h httpcaddyfile.Helper, tok caddyfile.Token, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if list, ok := helperField(&h, "warnings").(*[]caddyconfig.Warning); ok && list != nil {
		*list = append(*list, caddyconfig.Warning{File: tok.File, Line: tok.Line, Directive: "smsgate", Message: msg})
		return
	}
	caddy.Log().Warn(msg, zap.String("file", tok.File), zap.Int("line", tok.Line))
}

// helperField is a field of Caddy's Helper that it does not export: the
// site block (parentBlock), the named matchers in scope (matcherDefs),
// the adapter's warnings. nil when it is not there (another Caddy), which
// the callers take as "nothing known".
func helperField(h *httpcaddyfile.Helper, name string) any {
	f := reflect.ValueOf(h).Elem().FieldByName(name)
	if !f.IsValid() {
		return nil
	}
	return reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem().Interface()
}

// siteHost is the one host name of the site block the directive is in, if
// it has exactly one (`example.com`, `http://localhost:8080`); none for
// `:80`, `http://`, `*.example.com`, placeholders or several addresses.
func siteHost(h httpcaddyfile.Helper) (string, bool) {
	addr, ok := siteAddress(h)
	if !ok {
		return "", false
	}
	return strings.ToLower(strings.TrimSuffix(addr.Host, ".")), true
}

// siteOrigin is the scheme, host and port of the site's one address, for
// the links the admin's tools print (https unless the address says http).
func siteOrigin(h httpcaddyfile.Helper) (string, bool) {
	addr, ok := siteAddress(h)
	if !ok {
		return "", false
	}
	scheme := addr.Scheme
	if scheme == "" {
		scheme = "https"
		if addr.Port == "80" {
			scheme = "http"
		}
	}
	origin := scheme + "://" + strings.ToLower(strings.TrimSuffix(addr.Host, "."))
	if addr.Port != "" && !(scheme == "https" && addr.Port == "443") && !(scheme == "http" && addr.Port == "80") {
		origin += ":" + addr.Port
	}
	return origin, true
}

// siteKeys are the site block's addresses as written.
func siteKeys(h httpcaddyfile.Helper) []string {
	block, ok := helperField(&h, "parentBlock").(caddyfile.ServerBlock)
	if !ok || h.IsNamedRoute() {
		return nil
	}
	return block.GetKeysText()
}

// siteAddress is the site block's one address with a single host name.
func siteAddress(h httpcaddyfile.Helper) (httpcaddyfile.Address, bool) {
	keys := siteKeys(h)
	if len(keys) != 1 {
		return httpcaddyfile.Address{}, false
	}
	addr, err := httpcaddyfile.ParseAddress(keys[0])
	if err != nil || addr.Host == "" || strings.ContainsAny(addr.Host, "*{}") {
		return httpcaddyfile.Address{}, false
	}
	return addr, true
}
