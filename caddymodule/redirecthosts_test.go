package caddymodule_test

import (
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/pages"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestRedirectHostsNameOneOwnersHosts: `redirect_hosts *.com` loaded, and
// a sign-in returned the browser to any .com site an attacker's link
// named (an open redirect through the login); `*`, a path or a
// name in another script than its xn-- form loaded and matched nothing,
// silently. Refused from the Caddyfile, with its
// line, and from JSON; *.example.com and *.sso.localhost load.
func TestRedirectHostsNameOneOwnersHosts(t *testing.T) {
	sitetest.Parallel(t)
	for _, tc := range []struct{ hosts, json, want string }{
		{"*.com", `"*.com"`, "redirect_hosts: *.com takes every site under the public suffix com, anyone's"},
		{"*.co.uk", `"*.co.uk"`, "redirect_hosts: *.co.uk takes every site under the public suffix co.uk"},
		{"*", `"*"`, "redirect_hosts: * must be a host name"},
		{"app.example.com:0", `"app.example.com:0"`, "redirect_hosts: app.example.com:0 must end in a port from 1 to 65535, or :* for any"},
		{"app.example.com:", `"app.example.com:"`, "redirect_hosts: app.example.com: must end in a port from 1 to 65535, or :* for any"},
		{"*:443", `"*:443"`, "redirect_hosts: *:443 must be a host name"},
		{"*.com:443", `"*.com:443"`, "redirect_hosts: *.com:443 takes every site under the public suffix com, anyone's"},
		{"https://app.example.com", `"https://app.example.com"`, "redirect_hosts: https://app.example.com must be a host name"},
		// Return targets must name a host as browsers send it (its xn--
		// form): a name in another script loaded and matched none.
		{"bücher.example", `"bücher.example"`, "redirect_hosts: bücher.example must be written as browsers send it: xn--bcher-kva.example"},
		{"*.bücher.example", `"*.bücher.example"`, "redirect_hosts: *.bücher.example must be written as browsers send it: *.xn--bcher-kva.example"},
		// An entry with a trailing dot loaded and matched only targets
		// written with it (another origin), none of the app's own.
		{"grafana.example.com.", `"grafana.example.com."`, "redirect_hosts: grafana.example.com. must be written without its trailing dot: grafana.example.com"},
		{"*.example.org.", `"*.example.org."`, "redirect_hosts: *.example.org. must be written without its trailing dot: *.example.org"},
	} {
		t.Run(tc.hosts, func(t *testing.T) {
			refusedFromBoth(t, "redirect_hosts app.example.com "+tc.hosts, `"redirect_hosts": [`+tc.json+`]`, "Caddyfile:11", tc.want, tc.want)
		})
	}
	if _, err := adaptFile(t, `http://localhost:8080 {
	basic_auth argon2id {
		alice `+sitetest.DemoHash+`
	}
	smsgate {
		provider log
		redirect_hosts app.example.com *.example.com *.sso.localhost Grafana.Example.org xn--bcher-kva.example app.example.com:8443 *.sso.localhost:*
	}
}`); err != nil {
		t.Fatalf("host names and a domain's wildcard: %v", err)
	}
}

// TestAPortlessRedirectHostBesideAPortalOnAPortIsToldAtLoad: an entry
// without a port takes its scheme's default port only (attack14), so a
// portal on :8080 whose apps are on :8080 too, configured as the example
// was before, returns no sign-in to its app; the load says so.
func TestAPortlessRedirectHostBesideAPortalOnAPortIsToldAtLoad(t *testing.T) {
	sitetest.Parallel(t)
	for _, hosts := range []string{"*.sso.localhost", "*.sso.localhost:*"} {
		s := sitetest.Start(t, strings.Replace(portalSites, "redirect_hosts *.sso.localhost:*", "redirect_hosts "+hosts, 1))
		warned := s.LogEntries(pages.PortlessWarning)
		if hosts == "*.sso.localhost" && (len(warned) == 0 || warned[0]["redirect_hosts"] != hosts || warned[0]["portal_port"] == "") {
			t.Fatalf("%s: no warning at load: %v", hosts, warned)
		}
		if hosts != "*.sso.localhost" && len(warned) != 0 {
			t.Fatalf("%s: warned: %v", hosts, warned)
		}
	}
}
