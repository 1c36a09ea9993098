package caddymodule_test

import (
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// looseProxies is admin's warning of a gate's server that trusts proxies
// without trusted_proxies_strict.
const looseProxies = "this server trusts X-Forwarded-For from its trusted_proxies without trusted_proxies_strict: Caddy takes the header's first address as the client's, and a load balancer that appends to the header passes on whatever the client sent there, so a client can name any IP and pass every per-IP limit of the gates on it. Set trusted_proxies_strict (the global option `servers { trusted_proxies_strict }`; JSON: \"trusted_proxies_strict\": 1 on the server)"

// proxiesSite is a gated site the proxies' warnings are read from.
const proxiesSite = `http://localhost:{HTTP_PORT} {
	basic_auth argon2id {
		alice ` + sitetest.DemoHash + `
	}
	smsgate {
		store badger {DIR}
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`

// TestATrustedProxyWithoutStrictModeIsWarnedOf: a gate's server with
// trusted_proxies and no trusted_proxies_strict takes the first address of
// X-Forwarded-For as the client's, which a balancer that appends to the
// header lets the client write: every per-IP limit falls. Before, such a
// config loaded without a word (the README warned). Now the load warns
// once, naming the server and what to set; a strict server, or one that
// trusts no proxy, is not warned of.
func TestATrustedProxyWithoutStrictModeIsWarnedOf(t *testing.T) {
	sitetest.Parallel(t)
	for _, tc := range []struct {
		name, globals string
		warned        bool
		app           string // the site's last line, for respond
	}{
		{"trusted_proxies", sitetest.TrustedProxies, true, ""},
		// An app by a name or an address not loopback's: the walk asks
		// this machine's names and addresses of it (before, with none to
		// ask: a nil pointer, Caddy's start ended by a panic).
		{"trusted_proxies before an app by name", sitetest.TrustedProxies, true, "reverse_proxy app.internal:9"},
		{"trusted_proxies before an app by address", sitetest.TrustedProxies, true, "reverse_proxy 10.0.0.5:9"},
		{"trusted_proxies_strict", `servers {
		trusted_proxies static 127.0.0.1/32
		trusted_proxies_strict
	}`, false, ""},
		{"no trusted proxies", "", false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sitetest.Parallel(t)
			body := proxiesSite
			if tc.app != "" {
				body = strings.Replace(proxiesSite, `respond "Hello, {http.auth.user.id}!"`, tc.app, 1)
			}
			s := sitetest.StartWith(t, tc.globals, body)
			warned := s.LogEntries(looseProxies)
			if !tc.warned {
				if len(warned) != 0 {
					t.Fatalf("warned of loose proxies: %v", warned)
				}
				return
			}
			if len(warned) != 1 {
				t.Fatalf("%d warnings of trusted_proxies without strict mode; want one: %v", len(warned), warned)
			}
			if w := warned[0]; w["level"] != "warn" || w["server"] != "srv0" || w["set"] != "trusted_proxies_strict" || w["event"] != "trusted_proxies_not_strict" {
				t.Fatalf("the warning: %v", w)
			}
		})
	}
}
