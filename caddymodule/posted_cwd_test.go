package caddymodule_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// The working directory of a test's Caddy process (TestAPostedCaddyfileIgnoresTheFileInCaddysDirectory).
func init() {
	sitetest.Knob("cwd", func(dir string) (func(), error) {
		was, err := os.Getwd()
		if err != nil {
			return nil, err
		}
		return func() { _ = os.Chdir(was) }, os.Chdir(dir)
	})
}

// TestAPostedCaddyfileIgnoresTheFileInCaddysDirectory: Caddy names a
// Caddyfile posted to the admin API "Caddyfile", and the Caddyfile check
// read the arguments Caddy deleted (the handle's path) again from
// ./Caddyfile in Caddy's working directory: another file there, with a
// handle for every path at that line, made the gate one on every path,
// and a sound error route (to the app for /public/* only) was refused.
// The posted Caddyfile has no file now; its handle's path is left to the
// start check, which loads it.
func TestAPostedCaddyfileIgnoresTheFileInCaddysDirectory(t *testing.T) {
	if os.Getenv("SMSGATE_SITETEST_SERIAL") != "" {
		t.Skip("it changes its Caddy's working directory: a Caddy process of its own")
	}
	sitetest.Parallel(t)
	globals := "{\n\tadmin localhost:{ADMIN_PORT}\n\thttp_port {HTTP_PORT}\n}\n"
	cfg := globals + adminGateSiteWith("@public path /public/*", "@public")
	dir := t.TempDir()
	other := strings.Replace(cfg, "handle /admin/* {", "handle {", 1)
	if other == cfg {
		t.Fatal("the site has no handle /admin/*")
	}
	if err := os.WriteFile(filepath.Join(dir, "Caddyfile"), []byte(other), 0o600); err != nil {
		t.Fatal(err)
	}
	sitetest.AssertLoadError(t, adminGateSiteWith("", ""), "handle_errors hands the gate's refusals (401)") // first: t takes its Caddy
	sitetest.SetKnob(t, "cwd", dir)
	if st, body := sitetest.LoadCaddyfile(t, strings.ReplaceAll(cfg, "{DIR}", filepath.Join(t.TempDir(), "store"))); st != http.StatusOK {
		t.Fatalf("refused: %d %s", st, body)
	}
	c := sitetest.NewClient(t, "")
	if res := c.GetWith("/admin/x", map[string]string{"Remote-User": "admin"}); res.StatusCode == http.StatusOK || strings.Contains(res.Text, "app's page") {
		t.Errorf("a refused request was served: %d %s", res.StatusCode, res.Text)
	}
}
