package caddymodule_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// gateOf is a gate at addr (after http://) in front of an app
// (app.localhost, another site of the same Caddy), with own in its site
// block (a handle_errors of its own, or nothing).
func gateOf(addr, own string) string {
	return fmt.Sprintf(`http://%s {
	smsgate {
		identity none
		enrollment closed
		user carol +14155552671
		store badger {DIR}
		provider log
	}
	reverse_proxy localhost:{HTTP_PORT} {
		header_up Host app.localhost
	}
%s}
http://app.localhost:{HTTP_PORT} {
	respond "the app's page for [{http.request.header.Remote-User}]"
}
`, addr, own)
}

// toTheApp is a handle_errors (CODES: its arguments) that proxies to the
// app.
const toTheApp = `	handle_errors CODES {
		reverse_proxy localhost:{HTTP_PORT} {
			header_up Host app.localhost
		}
	}
`

// errorsTo is a handle_errors with codes that proxies to the app.
func errorsTo(codes string) string { return strings.ReplaceAll(toTheApp, "CODES", codes) }

// adaptSites adapts the site blocks cfg (with the port sitetest.Start
// gives them), written to a Caddyfile with the files also (name →
// content), as `caddy run --config` and `caddy reload` do.
func adaptSites(t *testing.T, cfg string, also map[string]string) error {
	t.Helper()
	dir := t.TempDir()
	port := strings.NewReplacer("{HTTP_PORT}", "8080", "{DIR}", filepath.Join(dir, "store"))
	for name, content := range also {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(port.Replace(content)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(dir, "Caddyfile")
	body := []byte("{\n\thttp_port 8080\n}\n" + port.Replace(cfg))
	if err := os.WriteFile(file, body, 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := caddyconfig.GetAdapter("caddyfile").Adapt(body, map[string]any{"filename": file})
	return err
}

// TestAnotherSiteBlocksErrorRouteDoesNotServeTheGatesRefusals: a
// handle_errors in another site block whose addresses cover the gate's
// site (a catch-all http:// or :80, *.localhost beside admin.localhost)
// runs for the gate's site when that has no handle_errors of its own:
// Caddy puts each block's error routes on the server behind the block's
// addresses, and the first that matches ends the search. The check read
// the gate's own block only, so one proxying to the app loaded, and the
// refused request was served from the app: 200 "the app's page for
// [admin]". Now the other blocks are read from the Caddyfile adapted (as
// `caddy run --config`, `caddy reload` and `caddy validate` do), and such
// a config is refused at that handle_errors' reverse_proxy, naming its
// handle_errors line; also a block of the gate's host that Caddy tries
// after the gate's (at /admin/*: its refusals fell to the other's,
// 200 "the app's page for []"). Only the one Caddy runs is checked: one
// that answers itself (respond), one on another port or for other hosts,
// one behind a more specific block's, one Caddy tries before the gate's
// (a longer path: the gate never runs there), or any beside a gate's site
// with a handle_errors of its own (even for other codes), loads and
// refuses.
func TestAnotherSiteBlocksErrorRouteDoesNotServeTheGatesRefusals(t *testing.T) {
	sitetest.Parallel(t)
	// Refused, at the reverse_proxy line (line: with the adaptation's
	// 3 lines of global options), naming the handle_errors line (at).
	for _, tc := range []struct {
		name, cfg      string
		also           map[string]string
		site, at, line string
	}{
		{"a catch-all http://", gateOf("localhost:{HTTP_PORT}", "") + "http:// {\n" + errorsTo("") + "}\n", nil,
			"http://", "Caddyfile:20)", "Caddyfile:21"},
		{"a catch-all on the gate's port", gateOf("localhost:{HTTP_PORT}", "") + ":{HTTP_PORT} {\n" + errorsTo("4xx") + "}\n", nil,
			":8080", "Caddyfile:20)", "Caddyfile:21"},
		{"a wildcard covering the gate's host", gateOf("admin.localhost:{HTTP_PORT}", "") + "http://*.localhost:{HTTP_PORT} {\n" + errorsTo("401") + "}\n", nil,
			"http://*.localhost:8080", "Caddyfile:20)", "Caddyfile:21"},
		{"the same host, the gate's block at a path", gateOf("localhost:{HTTP_PORT}/admin/*", "") + "http://localhost:{HTTP_PORT} {\n\trespond \"public\"\n" + errorsTo("") + "}\n", nil,
			"http://localhost:8080", "Caddyfile:21)", "Caddyfile:22"},
		{"a catch-all in an imported file", gateOf("localhost:{HTTP_PORT}", "") + "import other.caddy\n", map[string]string{"other.caddy": "http:// {\n" + errorsTo("") + "}\n"},
			"http://", "other.caddy:2)", "other.caddy:3"},
	} {
		err := adaptSites(t, tc.cfg, tc.also)
		want := "handle_errors of site " + tc.site + " ("
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "/"+tc.at) || !strings.HasSuffix(err.Error(), "/"+tc.line) ||
			!strings.Contains(err.Error(), "hands the gate's refusals (401) to localhost:8080") {
			t.Errorf("%s: adapting: %v, want %q at %s (handle_errors at %s)", tc.name, err, want, tc.line, tc.at)
		}
	}
	// Loads from a file (adaptSites), and running (run: the gate's host;
	// "": not run), a refused request is refused.
	for _, tc := range []struct{ name, cfg, run string }{
		{"a catch-all that answers itself", gateOf("localhost:{HTTP_PORT}", "") + "http:// {\n\thandle_errors {\n\t\trespond \"an error page\" 401\n\t}\n}\n", "localhost"},
		{"the gate's site's own handle_errors 401", gateOf("localhost:{HTTP_PORT}", "\thandle_errors 401 {\n\t\trespond \"the gate's own\" 401\n\t}\n") + "http:// {\n" + errorsTo("") + "}\n", "localhost"},
		{"the gate's site's own handle_errors, for other codes", gateOf("localhost:{HTTP_PORT}", "\thandle_errors 404 {\n\t\trespond \"not found\" 404\n\t}\n") + "http:// {\n" + errorsTo("") + "}\n", "localhost"},
		{"a more specific block's handle_errors first", gateOf("admin.localhost:{HTTP_PORT}", "") + "http://*.localhost:{HTTP_PORT} {\n\thandle_errors {\n\t\trespond \"an error page\" 401\n\t}\n}\nhttp:// {\n" + errorsTo("") + "}\n", "admin.localhost"},
		{"the same host at a path, tried before the gate's", gateOf("localhost:{HTTP_PORT}", "") + "http://localhost:{HTTP_PORT}/api/* {\n\trespond \"api\"\n" + errorsTo("") + "}\n", "localhost"},
		{"a catch-all for other codes", gateOf("localhost:{HTTP_PORT}", "") + "http:// {\n" + errorsTo("502 504") + "}\n", "localhost"},
		{"a catch-all on another port", gateOf("localhost:{HTTP_PORT}", "") + "http://:9 {\n" + errorsTo("") + "}\n", ""},
		{"a wildcard for other hosts", gateOf("localhost:{HTTP_PORT}", "") + "http://*.example.com:{HTTP_PORT} {\n" + errorsTo("") + "}\n", ""},
	} {
		if err := adaptSites(t, tc.cfg, nil); err != nil {
			t.Errorf("%s: refused: %v", tc.name, err)
			continue
		}
		if tc.run == "" {
			continue
		}
		sitetest.Start(t, tc.cfg)
		c := sitetest.NewClient(t, "")
		c.Accept = "application/json"
		if res := c.GetHost(tc.run+":{HTTP_PORT}", "/private"); res.StatusCode != http.StatusUnauthorized || strings.Contains(res.Text, "app's page") {
			t.Errorf("%s: a refused request was served by the app: %d %s", tc.name, res.StatusCode, res.Text)
		}
	}
}
