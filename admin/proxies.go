package admin

import (
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
