package siteblock

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestOnlyCaddysAuthenticationVarsAndMapWriteTheFirstFactorsPlaceholders
// (close19 Left 5): an identity {http.auth.user.*} is believed as a first
// factor set it. Of Caddy's standard handlers, only `authentication`
// (caddyauth: the user's placeholders once a provider authenticated; the
// candidate's and a provider's error on the way to its 401) writes
// {http.auth.*}, besides `vars` (http.auth.user.id, by name) and `map`
// (any output), which the load refuses on a gate's server (GateReads,
// admin's checkIdentitySetters); the others write their own namespaces
// (http.reverse_proxy.*, http.intercept.*, http.regexp.*, http.error.*,
// http.matchers.file.*, http.url_pattern.*). A third-party handler is not
// checked (SECURITY.md says why). This reads Caddy's source as the module
// has it: a Caddy whose other files name {http.auth.*} fails here, so
// that an upgrade that adds a writer is looked at.
func TestOnlyCaddysAuthenticationVarsAndMapWriteTheFirstFactorsPlaceholders(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/caddyserver/caddy/v2").Output()
	if err != nil {
		t.Skipf("Caddy's source is not at hand (go list -m): %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "modules")
	known := []string{
		"caddyhttp/caddyauth/caddyauth.go",          // sets them: the first factor
		"caddyhttp/vars.go",                         // sets http.auth.user.id by name: refused beside a gate
		"caddyhttp/server.go",                       // reads the user for the access log
		"caddyhttp/reverseproxy/fastcgi/fastcgi.go", // reads it for REMOTE_USER
	}
	var naming []string
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.Contains(string(src), `"http.auth.`) {
			rel, _ := filepath.Rel(dir, path)
			naming = append(naming, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range naming {
		if !slices.Contains(known, f) {
			t.Errorf("Caddy's %s names {http.auth.*}: if it writes one, an identity read from it may be the client's choice; check it as map and vars are (siteblock.GateReads, admin's checkIdentitySetters), or say why not in SECURITY.md", f)
		}
	}
	if !slices.Contains(naming, "caddyhttp/caddyauth/caddyauth.go") {
		t.Errorf("no file of Caddy's names {http.auth.*} as its authentication handler did (%v): the search is blind", naming)
	}
	// map's outputs are named by the config, never in Caddy's source:
	// that they may write {http.auth.*} is GateReads' to refuse.
	if src, err := os.ReadFile(filepath.Join(dir, "caddyhttp/map/map.go")); err != nil || !strings.Contains(string(src), "repl.Map(") {
		t.Errorf("Caddy's map no longer answers its outputs through repl.Map (%v): look at how it writes them", err)
	}
}
