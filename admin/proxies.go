package admin

import (
	"maps"
	"reflect"
	"slices"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/siteblock"
)

// looseProxies is the warning of a gate's server that believes
// X-Forwarded-For from its trusted_proxies without trusted_proxies_strict.
const looseProxies = "this server trusts X-Forwarded-For from its trusted_proxies without trusted_proxies_strict: Caddy takes the header's first address as the client's, and a load balancer that appends to the header passes on whatever the client sent there, so a client can name any IP and pass every per-IP limit of the gates on it. Set trusted_proxies_strict (the global option `servers { trusted_proxies_strict }`; JSON: \"trusted_proxies_strict\": 1 on the server)"

// warnLooseProxies warns, once a load (App.Start), of each server that
// holds a gate and takes its client IPs from its trusted proxies' headers
// without strict mode (looseProxies). A warning, not a refusal: behind a
// proxy that replaces the header, the first address is the client's, and
// such configs load today. Caddy keeps the provisioned trusted_proxies
// unexported (its JSON field is cleared once loaded), so it is read by
// reflection; TestATrustedProxyWithoutStrictModeIsWarnedOf sees a change
// of Caddy's that hid it.
func warnLooseProxies(app *caddyhttp.App, log *zap.Logger) {
	m := siteblock.ThisMachine()
	for _, name := range slices.Sorted(maps.Keys(app.Servers)) {
		srv := app.Servers[name]
		if srv.TrustedProxiesStrict > 0 || !trustsProxies(srv) || !holdsGate(srv, m) {
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

// holdsGate reports whether a route of srv holds a gate (at any depth);
// m is this machine, which reading a reverse_proxy's upstreams asks.
func holdsGate(srv *caddyhttp.Server, m *siteblock.Machine) bool {
	for _, route := range srv.Routes {
		s := &site{srv: srv, m: m, app: map[string]bool{}, seen: map[string]bool{}, way: []caddyhttp.Route{route}}
		if s.read(route.Handlers); len(s.ways) > 0 {
			return true
		}
	}
	return false
}
