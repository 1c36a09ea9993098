package caddymodule_test

// The foot-guns an operator hits: each Caddyfile here loaded on main and
// failed silently (or let someone in); now it is refused with its line, or
// loads with a warning that names the line.

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"

	"github.com/smsgate/caddy-smsgate/internal/harness"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// loadRefused expects cfg (a site block, behind this binary's admin) to be
// refused with want and the line.
func loadRefused(t *testing.T, site, want, line string) {
	t.Helper()
	cfg := "{\n\tadmin localhost:{ADMIN_PORT}\n}\n" + site
	if rest, ok := strings.CutPrefix(site, "{\n"); ok { // global options of its own
		cfg = "{\n\tadmin localhost:{ADMIN_PORT}\n" + rest
	}
	sitetest.AssertLoadError(t, cfg, want)
	sitetest.AssertLoadError(t, cfg, line)
}

func TestMisplacementsAreRefusedWithTheLine(t *testing.T) {
	sitetest.Parallel(t)
	for _, tc := range []struct{ name, site, want, line string }{
		{"the gate before basic_auth in a route", `http://localhost:{HTTP_PORT} {
	route {
		smsgate {
			store badger {DIR}
			provider log
		}
		basic_auth argon2id {
			alice ` + sitetest.DemoHash + `
		}
	}
}`, "smsgate runs before basic_auth (Caddyfile:10)", "Caddyfile:6"},
		{"the gate ordered before basic_auth", `{
	order smsgate before basic_auth
}
http://localhost:{HTTP_PORT} {
	basic_auth argon2id {
		alice ` + sitetest.DemoHash + `
	}
	smsgate {
		store badger {DIR}
		provider log
	}
}`, "smsgate runs before basic_auth (Caddyfile:6)", "Caddyfile:9"},
		{"a matcher that leaves the gate's pages to the app", `http://localhost:{HTTP_PORT} {
	basic_auth argon2id {
		alice ` + sitetest.DemoHash + `
	}
	smsgate /app/* {
		store badger {DIR}
		provider log
	}
	respond "app"
}`, "smsgate's matcher leaves /.smsgate/login to other handlers", "Caddyfile:8"},
		{"a named matcher that leaves the gate's pages to the app", `http://localhost:{HTTP_PORT} {
	@app path /app/*
	basic_auth @app argon2id {
		alice ` + sitetest.DemoHash + `
	}
	smsgate @app {
		store badger {DIR}
		provider log
	}
	respond "app"
}`, "smsgate's matcher leaves /.smsgate/login to other handlers", "Caddyfile:9"},
		{"handle_path", `http://localhost:{HTTP_PORT} {
	handle_path /app/* {
		basic_auth argon2id {
			alice ` + sitetest.DemoHash + `
		}
		smsgate {
			store badger {DIR}
			provider log
		}
		respond "app"
	}
}`, "smsgate is inside handle_path", "Caddyfile:5"},
		{"path_prefix /api/ over the app's /api/*", `http://localhost:{HTTP_PORT} {
	basic_auth argon2id {
		alice ` + sitetest.DemoHash + `
	}
	smsgate {
		path_prefix /api/
		store badger {DIR}
		provider log
	}
	handle /api/* {
		respond "the app's API"
	}
	respond "app"
}`, "path_prefix /api/ takes every path under it, but handle /api/* (Caddyfile:13) routes paths there to the app", "Caddyfile:9"},
		{"the log provider on a public site", `http://:{HTTP_PORT} {
	basic_auth argon2id {
		alice ` + sitetest.DemoHash + `
	}
	smsgate {
		realm app.example.com
		store badger {DIR}
		provider log
	}
}`, "provider log writes codes to Caddy's log", "Caddyfile:11"},
		{"an identity from a header nothing trusted sets", `http://localhost:{HTTP_PORT} {
	smsgate {
		identity {http.request.header.Remote-User}
		store badger {DIR}
		provider log
	}
}`, "nothing in front of smsgate sets Remote-User, so any client could send it and be anyone", "Caddyfile:6"},
		{"an identity from a cookie", `{
	servers {
		trusted_proxies static 10.0.0.0/8
	}
}
http://localhost:{HTTP_PORT} {
	smsgate {
		identity {http.request.cookie.user}
		store badger {DIR}
		provider log
	}
}`, "{http.request.cookie.user} is whatever the client sends", "Caddyfile:9"},
		{"forward_auth after the gate", `http://localhost:{HTTP_PORT} {
	route {
		smsgate {
			identity {header.Remote-User}
			store badger {DIR}
			provider log
		}
		forward_auth 127.0.0.1:9 {
			uri /verify
			copy_headers Remote-User
		}
	}
}`, "forward_auth (Caddyfile:11) sets Remote-User after smsgate has read it", "Caddyfile:7"},
		{"a cookie_domain the site is not under", `http://app.localhost:{HTTP_PORT} {
	basic_auth argon2id {
		alice ` + sitetest.DemoHash + `
	}
	smsgate {
		cookie_domain other.localhost
		store badger {DIR}
		provider log
	}
}`, "cookie_domain other.localhost does not cover this site (app.localhost)", "Caddyfile:9"},
		{"a cookie_domain that is a public suffix", `http://app.localhost:{HTTP_PORT} {
	basic_auth argon2id {
		alice ` + sitetest.DemoHash + `
	}
	smsgate {
		realm app.co.uk
		cookie_domain co.uk
		public_origin http://app.localhost:{HTTP_PORT}
		store badger {DIR}
		provider log {
			allow_public
		}
	}
}`, "cookie_domain co.uk is a public suffix", "Caddyfile:10"},
		{"a message template that costs many segments", `http://localhost:{HTTP_PORT} {
	basic_auth argon2id {
		alice ` + sitetest.DemoHash + `
	}
	smsgate {
		store badger {DIR}
		provider log
		message_template "` + strings.Repeat("Read this carefully before you type it in. ", 12) + `{{.Code}}"
	}
}`, "a text would take 4 SMS segments, more than 3", "Caddyfile:11"},
		{"a short literal signing key", `http://localhost:{HTTP_PORT} {
	basic_auth argon2id {
		alice ` + sitetest.DemoHash + `
	}
	smsgate {
		store badger {DIR}
		provider log
		signing_key too-short
	}
}`, "signing_key is 9 bytes; it must be at least 32", "Caddyfile:11"},
	} {
		t.Run(tc.name, func(t *testing.T) { loadRefused(t, tc.site, tc.want, tc.line) })
	}
}

// Two sites on one host name share cookies (browsers ignore ports), so
// their gates would take each other's sessions: refused unless the same
// realm is written in both.
func TestTwoPortsOfOneHostShareNoSessionsByAccident(t *testing.T) {
	sitetest.Parallel(t)
	other := strconv.Itoa(harness.FreePort())
	two := func(realmA, realmB string) string {
		return `http://localhost:{HTTP_PORT} {
	smsgate {
		` + realmA + `
		identity none
		store badger {DIR}/a
		provider log
	}
}
http://localhost:` + other + ` {
	smsgate {
		` + realmB + `
		identity none
		store badger {DIR}/b
		provider log
	}
}`
	}
	loadRefused(t, two("", ""), "realm localhost is also the realm of the gate of site http://localhost:{HTTP_PORT}", "Caddyfile:13")
	loadRefused(t, two("realm localhost", ""), "write `realm localhost` in both", "Caddyfile:13")
	// Written in both: the operator's choice, and it loads.
	sitetest.Start(t, two("realm localhost", "realm localhost"))
}

// adaptFile adapts a Caddyfile read from a file, as `caddy run --config`
// and `caddy validate` do.
func adaptFile(t *testing.T, body string) ([]caddyconfig.Warning, error) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "Caddyfile")
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	_, warnings, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(body), map[string]any{"filename": file})
	return warnings, err
}

// Caddy deletes a block's matcher from the site's tokens as it parses the
// block; read from its file, an enclosing handle's matcher is checked too.
func TestEnclosingBlocksMustLetTheGatesPagesThrough(t *testing.T) {
	sitetest.Parallel(t)
	for _, tc := range []struct{ site, want string }{
		{`http://localhost:8080 {
	handle /app/* {
		basic_auth argon2id {
			alice ` + sitetest.DemoHash + `
		}
		smsgate {
			provider log
		}
		respond "app"
	}
}`, "handle /app/* leaves /.smsgate/login to other handlers"},
		{`http://localhost:8080 {
	@app path /app/*
	route @app {
		basic_auth argon2id {
			alice ` + sitetest.DemoHash + `
		}
		smsgate {
			provider log
		}
		respond "app"
	}
}`, "route @app leaves /.smsgate/login to other handlers"},
	} {
		_, err := adaptFile(t, tc.site)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "Caddyfile:") {
			t.Errorf("%q\nerror %v, want %q with the line", tc.site, err, tc.want)
		}
	}
	// The README's way: the gate's pages inside the block, by path_prefix.
	if _, err := adaptFile(t, `http://localhost:8080 {
	handle /admin* {
		basic_auth argon2id {
			alice `+sitetest.DemoHash+`
		}
		smsgate {
			path_prefix /admin/.smsgate/
			provider log
		}
		respond "admin"
	}
}`); err != nil {
		t.Fatalf("the README's admin gate: %v", err)
	}
}

// caddy validate (or a load) of a config that cannot run creates no
// database folder: the config is checked before the store is opened.
func TestABadConfigOpensNoStore(t *testing.T) {
	sitetest.Parallel(t)
	os.Unsetenv("SMSGATE_TEST_UNSET")
	want := map[string]string{ // what the error says, where the test knows it
		"templates_dir /nonexistent/smsgate-templates": "templates_dir /nonexistent/smsgate-templates: no such folder",
		"messages_dir /nonexistent/smsgate-messages":   "messages_dir /nonexistent/smsgate-messages: no such folder",
		// The providers, provisioned once (before the store), tell their
		// mistake as the adapter does: which one, and the unset variable.
		"provider twilio {\n\t\t\taccount_sid AC1\n\t\t\tauth_token t\n\t\t\tfrom {env.SMSGATE_TEST_UNSET}\n\t\t}":          "provider 2: twilio: from is empty",
		"provider twilio {\n\t\t\taccount_sid {env.SMSGATE_TEST_UNSET}\n\t\t\tauth_token t\n\t\t\tfrom +15005550006\n\t\t}": "provider 2: account_sid is empty",
	}
	for i, opts := range []string{
		"signing_key {env.SMSGATE_TEST_UNSET}",
		"templates_dir /nonexistent/smsgate-templates",
		"messages_dir /nonexistent/smsgate-messages/[",
		"messages_dir /nonexistent/smsgate-messages", // before: loaded, the admin's texts missing
		"verify_only {env.SMSGATE_TEST_UNSET}",
		"provider twilio {\n\t\t\taccount_sid AC1\n\t\t\tauth_token t\n\t\t\tfrom {env.SMSGATE_TEST_UNSET}\n\t\t}",
		"provider twilio {\n\t\t\taccount_sid {env.SMSGATE_TEST_UNSET}\n\t\t\tauth_token t\n\t\t\tfrom +15005550006\n\t\t}",
	} {
		dir := filepath.Join(t.TempDir(), "store")
		cfg := "{\n\tadmin localhost:{ADMIN_PORT}\n}\nhttp://localhost:{HTTP_PORT} {\n\tbasic_auth argon2id {\n\t\talice " + sitetest.DemoHash +
			"\n\t}\n\tsmsgate {\n\t\tstore badger " + dir + "\n\t\tprovider log\n\t\t" + opts + "\n\t}\n}\n"
		sitetest.AssertLoadError(t, cfg, want[opts])
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("%d (%s): a refused config created %s (%v)", i, opts, dir, err)
		}
	}
}

// cookie_domain hands the session cookie to every host under the domain:
// a host that is not the operator's receives it and can replay it. The
// load says so (on main it said nothing).
func TestCookieDomainIsToldAtLoad(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, portalSites)
	warned := s.LogEntries("cookie_domain hands the session cookie to every host under it: any of them that is not yours, or that logs request headers, can replay it as the user. Use it only for a domain whose every host you run")
	if len(warned) == 0 || warned[0]["cookie_domain"] != "sso.localhost" || warned[0]["level"] != "warn" {
		t.Fatalf("no warning about cookie_domain at load: %v", warned)
	}
}
