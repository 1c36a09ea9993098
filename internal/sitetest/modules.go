package sitetest

// The Caddy modules the tests' sites use, beside the gate's own: those of
// Caddy's standard set that a test's Caddyfile names (basic_auth,
// reverse_proxy and forward_auth, header and request_header, handle_path,
// map and intercept (the start check's error routes),
// log, the events option), the admin API's /metrics, and those every
// config loads (session tickets, file storage).
// Not all of modules/standard: its templates bring a syntax highlighter
// whose start-up, in every test binary and every Caddy process it starts,
// cost more under the race detector than the gate's own; cmd/caddy, the
// build users run, keeps the whole standard set (internal/processes runs it).
import (
	_ "github.com/caddyserver/caddy/v2/modules/caddyevents/eventsconfig"
	_ "github.com/caddyserver/caddy/v2/modules/caddyhttp/caddyauth"
	_ "github.com/caddyserver/caddy/v2/modules/caddyhttp/headers"
	_ "github.com/caddyserver/caddy/v2/modules/caddyhttp/intercept"
	_ "github.com/caddyserver/caddy/v2/modules/caddyhttp/map"
	_ "github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"
	_ "github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy/forwardauth"
	_ "github.com/caddyserver/caddy/v2/modules/caddyhttp/rewrite"
	_ "github.com/caddyserver/caddy/v2/modules/caddytls/standardstek"
	_ "github.com/caddyserver/caddy/v2/modules/filestorage"
	_ "github.com/caddyserver/caddy/v2/modules/logging"
	_ "github.com/caddyserver/caddy/v2/modules/metrics"
)
