package admin

import (
	"net/netip"
	"reflect"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
)

// looseProxies is the warning of a gate's server that believes
// X-Forwarded-For from its trusted_proxies without trusted_proxies_strict.
const looseProxies = "this server trusts X-Forwarded-For from its trusted_proxies without trusted_proxies_strict: Caddy takes the header's first address as the client's, and a load balancer that appends to the header passes on whatever the client sent there, so a client can name any IP and pass every per-IP limit of the gates on it. Set trusted_proxies_strict (the global option `servers { trusted_proxies_strict }`; JSON: \"trusted_proxies_strict\": 1 on the server)"

// warnLooseProxies warns, once a load (App.Start), of each server of
// gated (those holding a gate: CheckErrorRoutes) that takes its client
// IPs from its trusted proxies' headers without strict mode
// (looseProxies). A warning, not a refusal: behind a
// proxy that replaces the header, the first address is the client's, and
// such configs load today. Caddy keeps the provisioned trusted_proxies
// unexported (its JSON field is cleared once loaded), so it is read by
// reflection; TestATrustedProxyWithoutStrictModeIsWarnedOf sees a change
// of Caddy's that hid it.
func warnLooseProxies(app *caddyhttp.App, gated []string, log *zap.Logger) {
	for _, name := range gated {
		srv := app.Servers[name]
		if srv.TrustedProxiesStrict > 0 || !trustsProxies(srv) {
			continue
		}
		log.Warn(looseProxies, zap.String("event", "trusted_proxies_not_strict"), zap.String("server", name),
			zap.String("set", "trusted_proxies_strict"))
	}
}

// trustsProxies reports whether srv believes a proxy's client IP headers
// from anyone (trusted_proxies, or trusted_proxies_unix).
func trustsProxies(srv *caddyhttp.Server) bool {
	f := reflect.ValueOf(srv).Elem().FieldByName("trustedProxies")
	return srv.TrustedProxiesUnix || f.IsValid() && f.Kind() == reflect.Interface && !f.IsNil()
}

// wideProxies is the warning of a gate's server whose trusted_proxies
// hold a range wider than a LAN's that is not loopback's (wideRanges).
const wideProxies = "this server's trusted_proxies hold a range of more than 256 addresses that is not loopback: every client there is a trusted proxy, and the gates' forward-auth check (/.smsgate/auth) answers one with the request's cookies (the Cookie echo, for nginx's and Traefik's apps), so a page's script in a browser there reads every cookie of a gated app's origin, HttpOnly ones too, and its X-Forwarded-For names any client. If browsers can reach this server from there (Caddy's private_ranges on an intranet), list only your proxies' own addresses (SECURITY.md, \"The check's Cookie echo\")"

// warnWideProxies warns, once a load (App.Start), of each server of gated
// whose static trusted_proxies hold a wide range (wideRanges), naming
// those ranges. A warning, not a refusal: a range of proxies alone (a
// container network) is safe, and only the operator knows whether
// browsers are in it. A dynamic source (a CDN's list) is not read.
func warnWideProxies(app *caddyhttp.App, gated []string, log *zap.Logger) {
	for _, name := range gated {
		if wide := wideRanges(app.Servers[name]); len(wide) > 0 {
			log.Warn(wideProxies, zap.String("event", "trusted_proxies_wide"), zap.String("server", name),
				zap.Strings("ranges", wide))
		}
	}
}

// wideRanges are the ranges of srv's static trusted_proxies that hold
// more than 256 addresses (an IPv4 range wider than /24, an IPv6 one than
// /120) and are not loopback's (loopbackOnly): as for trustsProxies, Caddy
// keeps them unexported, and they are read (never changed) by reflection.
func wideRanges(srv *caddyhttp.Server) []string {
	f := reflect.ValueOf(srv).Elem().FieldByName("trustedProxies")
	if !f.IsValid() || f.Kind() != reflect.Interface || f.IsNil() || f.Elem().Type() != reflect.TypeFor[*caddyhttp.StaticIPRange]() {
		return nil
	}
	ranges := f.Elem().Elem().FieldByName("Ranges")
	var wide []string
	for i := range ranges.Len() {
		s := ranges.Index(i).String()
		p, err := caddyhttp.CIDRExpressionToPrefix(s)
		if err != nil || loopbackOnly(p) {
			continue
		}
		if bits := p.Addr().BitLen(); bits-p.Bits() > 8 {
			wide = append(wide, s)
		}
	}
	return wide
}

// loopbackOnly says whether every address of p is loopback's: p lies
// inside 127.0.0.0/8 (also written IPv4-mapped) or is ::1/128. The range
// is asked, not the address it is written with (attack38b F2): Caddy
// trusts every address p.Contains, and "127.0.0.1/0" holds them all.
func loopbackOnly(p netip.Prefix) bool {
	p = p.Masked()
	switch a := p.Addr(); {
	case a.Is4():
		return p.Bits() >= 8 && a.IsLoopback()
	case a.Is4In6():
		return p.Bits() >= 96+8 && a.IsLoopback()
	default:
		return p.Bits() == 128 && a == netip.IPv6Loopback()
	}
}
