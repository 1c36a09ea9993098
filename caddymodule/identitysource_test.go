package caddymodule_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAnIdentityCopiedThroughVarsIsRefused (attack40b H1): an identity the
// client writes outright ({query.u}) or a header nothing trusted sets was
// refused at load, but the same value copied first by `vars`, `map` or a
// path_regexp/host_regexp capture ({http.vars.u}, a map output,
// {http.regexp.*}) loaded: a stranger at /?u=alice enrolled his own phone
// as alice (`200 hi alice`), and a client's own X-User copied into a var
// was believed (the per-request header check sees no var). Now an identity
// is read only from a source the gate knows ({http.auth.user.*}, a
// request header under the trusted-hop check, a TLS client certificate's
// field): anything else is refused at its Caddyfile line, and in JSON.
func TestAnIdentityCopiedThroughVarsIsRefused(t *testing.T) {
	sitetest.Parallel(t)
	const why = "smsgate cannot tell what sets {"
	for _, tc := range []struct{ name, before, identity, placeholder string }{
		{"vars from the query", "vars u {query.u}", "{http.vars.u}", "http.vars.u"},
		{"vars shorthand from a header", "vars user {header.X-User}", "{vars.user}", "http.vars.user"},
		{"a path_regexp capture", "@u path_regexp u ^/u/([a-z]+)\n\tvars @u who {re.u.1}", "{re.u.1}", "http.regexp.u.1"},
		{"a map output", "map {query.u} {who} {\n\t\tdefault {query.u}\n\t}", "{who}", "who"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := "{\n\tadmin localhost:{ADMIN_PORT}\n}\nhttp://localhost:{HTTP_PORT} {\n\t" + tc.before + "\n\tsmsgate {\n\t\tidentity " + tc.identity + "\n\t\tenrollment open\n\t\tstore badger {DIR}\n\t\tprovider log\n\t}\n\trespond \"hi {smsgate.user}\"\n}\n"
			line := strings.Count(cfg[:strings.Index(cfg, "\t\tidentity ")], "\n") + 1
			sitetest.AssertLoadError(t, cfg, why+tc.placeholder+"}", "Caddyfile:"+strconv.Itoa(line))
			sitetest.AssertJSONLoadError(t, `{"admin": {"listen": "localhost:{ADMIN_PORT}"}, "apps": {"http": {"http_port": {HTTP_PORT}, "servers": {"s": {"listen": [":{HTTP_PORT}"], "routes": [{"handle": [
	{"handler": "smsgate", "realm": "localhost", "identity": "{`+tc.placeholder+`}", "enrollment": "open", "store": {"module": "badger", "path": "`+t.TempDir()+`"}, "providers": [{"provider": "log"}]}]}]}}}}}`, why+tc.placeholder+"}")
		})
	}
}
