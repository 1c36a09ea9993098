package caddymodule_test

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// addressGate is a gate on a site address's path (PREFIX: its
// path_prefix line, or none).
const addressGate = `{
	admin localhost:{ADMIN_PORT}
	http_port {HTTP_PORT}
}
http://localhost:{HTTP_PORT}/admin/* {
	smsgate {
		identity none
		enrollment closed
		PREFIX
		user carol +14155552671
		store badger {DIR}
		provider log
	}
	respond "the admin page"
}`

// TestASiteAddresssPathMustReachTheGatesPages: the Caddyfile check read
// the paths of the gate's matcher and of the blocks around it, not of its
// site's address: a gate on localhost/admin/* with its pages at the
// default /.smsgate/ loaded, and sent every visitor to a login page that
// requests never reach (Caddy matches the site's routes on /admin/*).
// Now it is refused at the gate's line; with its pages under the address
// (path_prefix /admin/.smsgate/) it loads and serves them.
func TestASiteAddresssPathMustReachTheGatesPages(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.AssertLoadError(t, strings.Replace(addressGate, "PREFIX", "", 1),
		"at Caddyfile:6", "the site's address http://localhost:{HTTP_PORT}/admin/* leaves /.smsgate/login to other sites", "path_prefix /admin/.smsgate/")
	sitetest.AssertLoadError(t, strings.Replace(addressGate, "PREFIX", "path_prefix /.auth/", 1),
		"at Caddyfile:9", "leaves /.auth/login to other sites")
	cfg := strings.NewReplacer("PREFIX", "path_prefix /admin/.smsgate/", "{DIR}", filepath.Join(t.TempDir(), "store")).Replace(addressGate)
	if st, body := sitetest.LoadCaddyfile(t, cfg); st != http.StatusOK {
		t.Fatalf("refused: %d %s", st, body)
	}
	c := sitetest.NewClient(t, "")
	if res := c.Get("/admin/x"); res.StatusCode == http.StatusOK || !strings.Contains(res.Header.Get("Location"), "/admin/.smsgate/login") {
		t.Errorf("/admin/x: %d to %q, want the gate's login", res.StatusCode, res.Header.Get("Location"))
	}
	if res := c.Get("/admin/.smsgate/login"); res.StatusCode != http.StatusOK {
		t.Errorf("the login page: %d %s", res.StatusCode, res.Text)
	}
}
