package caddymodule_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAClientsMaxAgeDoesNotLoosenThePortals: a portal whose gate asks for
// a code from the last 15 minutes (max_age 15m) and an app behind Caddy's
// forward_auth with `uri /.smsgate/auth`, which keeps the client's query
// string (Caddy's rewrite changes the path only). A client that adds
// ?max_age=100000h to its request must not pass with an hour-old code;
// one that asks for less than the gate's may (stricter is its own
// business). (Before, the client's max_age replaced the gate's: 200.)
func TestAClientsMaxAgeDoesNotLoosenThePortals(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.StartWith(t, sitetest.TrustedProxies, `http://auth.sso.localhost:{HTTP_PORT} {
	smsgate {
		identity none
		user carol +14155552671
		realm sso.localhost
		cookie_domain sso.localhost
		portal_url http://auth.sso.localhost:{HTTP_PORT}
		redirect_hosts *.sso.localhost:*
		max_age 15m
		store badger {DIR}
		provider log
	}
	respond "portal"
}

http://app.sso.localhost:{HTTP_PORT} {
	route {
		request_header -Remote-User
		forward_auth localhost:{HTTP_PORT} {
			uri /.smsgate/auth
			header_up Host auth.sso.localhost:{HTTP_PORT}
			copy_headers Remote-User
		}
		respond "app user={http.request.header.Remote-User}"
	}
}`)
	portal := func(p string) string { return absolute(s, "auth.sso.localhost", "/.smsgate/"+p) }
	c := sitetest.NewClient(t, "")
	page := c.GetURL(portal("login"))
	tok := sitetest.CSRFField.FindStringSubmatch(page.Text)[1]
	c.PostURL(portal("login"), url.Values{"username": {"carol"}, "csrf": {tok}})
	c.PostURL(portal("verify"), url.Values{"code": {s.LastCode()}, "csrf": {tok}})
	if res := c.GetURL(absolute(s, "app.sso.localhost", "/?max_age=1m")); !strings.HasPrefix(res.Text, "app user=carol") {
		t.Fatalf("a fresh code, asked for one of the last minute: %d %q", res.StatusCode, res.Text)
	}

	s.Advance(time.Hour)
	if res := c.GetURL(absolute(s, "app.sso.localhost", "/")); res.StatusCode != http.StatusFound {
		t.Fatalf("an hour-old code at a max_age 15m portal: %d %q", res.StatusCode, res.Text)
	}
	for _, q := range []string{"?max_age=100000h", "?max_age=16m", "?x=1&max_age=2h"} {
		if res := c.GetURL(absolute(s, "app.sso.localhost", "/"+q)); res.StatusCode == http.StatusOK {
			t.Errorf("an hour-old code passed the portal's max_age 15m with the client's %s: %q", q, res.Text)
		}
	}
}
