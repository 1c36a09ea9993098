package caddymodule_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestTheForwardAuthExamplesStepUpCoversAdminItself: the forward-auth
// example asks the wiki's /admin for a code from the last 15 minutes
// (max_age=15m). Its step-up was on "handle /admin/*", which Caddy matches
// for /admin/ and below, not /admin: with a code 20 minutes old,
// /admin/users asked for a step-up and /admin, /ADMIN and /admin?x=1
// answered 200 (attack32's F2). Now every one of them asks.
func TestTheForwardAuthExamplesStepUpCoversAdminItself(t *testing.T) {
	sitetest.Parallel(t)
	raw, err := os.ReadFile(filepath.Join("..", "caddyfile-examples", "forward-auth.Caddyfile"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := globalBlock.ReplaceAllString(string(raw), "")
	cfg = strings.ReplaceAll(cfg, "{$SMSGATE_DATA:./smsgate-data}", "{DIR}")
	cfg = strings.ReplaceAll(cfg, ":8080", ":{HTTP_PORT}")
	s := sitetest.StartWith(t, sitetest.TrustedProxies, cfg)
	wiki := func(path string) string { return absolute(s, "wiki.sso.localhost", path) }
	c := signInThroughPortal(t, s, "wiki.sso.localhost", "/page")
	paths := []string{"/admin/users", "/admin", "/ADMIN", "/admin?x=1", "/admin/"}
	for _, p := range paths {
		if res := c.GetURL(wiki(p)); res.StatusCode != http.StatusOK {
			t.Fatalf("%s with a fresh code: %d %q", p, res.StatusCode, res.Text)
		}
	}
	s.Advance(20 * time.Minute)                              // the code is older than max_age 15m
	sitetest.ExpectBody(t, c.GetURL(wiki("/page")), "carol") // no step-up off /admin
	for _, p := range paths {
		if res := c.GetURL(wiki(p)); res.StatusCode == http.StatusOK {
			t.Errorf("%s with a code 20 minutes old: %d %q, want a step-up", p, res.StatusCode, res.Text)
		}
	}
}
