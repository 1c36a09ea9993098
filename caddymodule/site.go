package caddymodule

import (
	"reflect"
	"strings"

	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// What a gate learns from the Caddyfile site block it is in: its realm
// (the site's one host name) and its own address.

func parseCaddyfile(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	g := new(Gate)
	if err := g.UnmarshalCaddyfile(h.Dispenser); err != nil {
		return nil, err
	}
	if origin, ok := siteOrigin(h); ok && g.SiteOrigin == "" {
		g.SiteOrigin = origin
	}
	if g.Realm == "" {
		name, ok := siteHost(h)
		if !ok {
			h.Reset()
			h.Next()
			return nil, h.Errf("smsgate: this site does not have exactly one host name, so the realm cannot come from it: set realm (e.g. realm example.com); a realm is never taken from a request's Host header")
		}
		g.Realm = name
	}
	return g, nil
}

// siteHost is the one host name of the site block the directive is in, if
// it has exactly one (`example.com`, `http://localhost:8080`); none for
// `:80`, `http://`, `*.example.com`, placeholders or several addresses.
//
// Caddy's Helper keeps the site's addresses in an unexported field; it is
// read (never written) by reflection, and anything unexpected means "no
// single name", which fails closed with "set realm".
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

// siteAddress is the site block's one address with a single host name.
func siteAddress(h httpcaddyfile.Helper) (httpcaddyfile.Address, bool) {
	if h.IsNamedRoute() {
		return httpcaddyfile.Address{}, false
	}
	keys := reflect.ValueOf(h).FieldByName("parentBlock").FieldByName("Keys")
	if !keys.IsValid() || keys.Kind() != reflect.Slice || keys.Len() != 1 {
		return httpcaddyfile.Address{}, false
	}
	text := keys.Index(0).FieldByName("Text")
	if !text.IsValid() || text.Kind() != reflect.String {
		return httpcaddyfile.Address{}, false
	}
	addr, err := httpcaddyfile.ParseAddress(text.String())
	if err != nil || addr.Host == "" || strings.ContainsAny(addr.Host, "*{}") {
		return httpcaddyfile.Address{}, false
	}
	return addr, true
}
