package caddymodule_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// adminGateSite is a gate in handle /admin/* in front of an app (another
// site of the same Caddy), its pages under /admin/.smsgate/, and a
// handle_errors that proxies to the app for the requests MATCHER's
// @errors takes (TO: reverse_proxy's matcher).
const adminGateSite = `http://localhost:{HTTP_PORT} {
	handle /admin/* {
		smsgate {
			identity none
			enrollment closed
			path_prefix /admin/.smsgate/
			user carol +14155552671
			store badger {DIR}
			provider log
		}
		reverse_proxy localhost:{HTTP_PORT} {
			header_up Host app.localhost
		}
	}
	handle_errors {
		MATCHER
		reverse_proxy TO localhost:{HTTP_PORT} {
			header_up Host app.localhost
		}
	}
}
http://app.localhost:{HTTP_PORT} {
	respond "the app's page for [{http.request.header.Remote-User}]"
}`

// adaptedFrom adapts the Caddyfile cfg from a file, as `caddy run
// --config` does (Caddy deletes a handle's matcher from the site's tokens
// as it parses the block: the file has it), behind globals with c's ports
// (its admin's too: the JSON loads into c's Caddy), {DIR} a fresh folder.
func adaptedFrom(t *testing.T, c *sitetest.Client, cfg string) (string, error) {
	t.Helper()
	dir := t.TempDir()
	body := c.WithPorts(strings.ReplaceAll("{\n\tadmin localhost:{ADMIN_PORT}\n\thttp_port {HTTP_PORT}\n}\n"+cfg, "{DIR}", filepath.Join(dir, "store")))
	file := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(body), map[string]any{"filename": file})
	return string(out), err
}

// TestAnErrorRouteForOtherPathsThanTheGatesLoads: the adapt-time check
// (siteblock's CheckErrorRoutes) refused a handle_errors that proxies to
// the app for /public/* only, beside a gate in handle /admin/*, though
// no refusal of the gate has such a path (the start check loaded its
// JSON). Now a directive under a path matcher (named or inline, or a
// block's around it) that no path on the gate's way can match is not
// the gate's problem, compared as Caddy's path matcher compares
// (case-insensitive, a pattern's fixed beginning and end); the gate's
// own pages (path_prefix) are on its way. Those load, and a refused
// request is not served by the app; paths that may meet the gate's
// (/admin/*, /*, *, not /public/*, /ADMIN/*, the gate's pages, *.php, a
// regexp) are refused.
func TestAnErrorRouteForOtherPathsThanTheGatesLoads(t *testing.T) {
	sitetest.Parallel(t)
	site := adminGateSiteWith
	sitetest.AssertLoadError(t, site("", ""), "handle_errors hands the gate's refusals (401)") // first: t takes its Caddy
	c := sitetest.NewClient(t, "")
	c.Accept = "application/json"
	for name, cfg := range otherPathsThanTheGates {
		json, err := adaptedFrom(t, c, cfg)
		if err != nil {
			t.Errorf("%s: refused: %v", name, err)
			continue
		}
		if st, body := sitetest.Admin(t, http.MethodPost, "/load", json); st != http.StatusOK {
			t.Errorf("%s: the start check refused: %d %s", name, st, body)
			continue
		}
		for _, p := range []string{"/admin/x", "/admin/.smsgate/nothing", "/ADMIN/x"} {
			if res := c.GetWith(p, map[string]string{"Remote-User": "admin"}); res.StatusCode == http.StatusOK || strings.Contains(res.Text, "app's page") {
				t.Errorf("%s: %s: a refused request was served: %d %s", name, p, res.StatusCode, res.Text)
			}
		}
	}
	for _, cfg := range []string{
		site("@p path /admin/*", "@p"),
		site("@p path /*", "@p"),
		site("@p path *", "@p"),
		site("@p not path /public/*", "@p"),
		site("@p path /ADMIN/*", "@p"),
		site("@p path /admin/.smsgate/*", "@p"),
		site("@p path /public/* /admin/x", "@p"),
		site("@p path *.php", "@p"),
		site("@p path_regexp ^/public/", "@p"),
		site("", "/admin/*"),
		site("", "/admin*"),
		site("", "/Admin/X"),
		site("@p path /public/*\n\t\trewrite * /public{path}", "@p"), // a rewrite takes /admin/x to /public/admin/x
		site("@p path /public/*\n\t\thandle /admin/* {\n\t\t\treverse_proxy localhost:{HTTP_PORT}\n\t\t}", "@p"),
	} {
		_, err := adaptedFrom(t, c, cfg)
		if want := c.WithPorts("handle_errors hands the gate's refusals (401) to localhost:{HTTP_PORT}, the app smsgate protects"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("adapting: %v, want %q\n%s", err, want, cfg)
		}
	}
}

// adminGateSiteWith is adminGateSite with its handle_errors' MATCHER and
// reverse_proxy's matcher TO.
func adminGateSiteWith(matcher, to string) string {
	return strings.NewReplacer("MATCHER", matcher, "TO", to).Replace(adminGateSite)
}

// otherPathsThanTheGates are adminGateSites whose error route proxies to
// the app for paths no refusal of the gate has.
var otherPathsThanTheGates = map[string]string{
	// The reviewer's config: its respond answers what the proxy leaves.
	"the reviewer's":  strings.Replace(adminGateSiteWith("@public path /public/*", "@public"), "\t}\n}\nhttp://app", "\t\trespond 401\n\t}\n}\nhttp://app", 1),
	"a named matcher": adminGateSiteWith("@public path /public/*", "@public"),
	"inline":          adminGateSiteWith("", "/public/*"),
	"an exact path":   adminGateSiteWith("@bare path /admin", "@bare"),
	"a block matcher": adminGateSiteWith("@public {\n\t\t\tpath /public/* /static/*\n\t\t\tmethod GET\n\t\t}", "@public"),
}

// TestAPostedCaddyfilesErrorRouteForOtherPathsLoads: a Caddyfile posted to
// the admin API has no file to read again, and Caddy deletes the handle's
// path from the site's tokens as it parses the block: the Caddyfile check
// took the gate for one on every path and refused an error route to the
// app for /public/* only (beside the gate in handle /admin/*), which the
// same Caddyfile from a file loads. Now a directive under a path matcher
// is left, where the gate's way is lost so, to the start check, which reads
// the handle's path in the JSON's route match and the error route's own:
// the sound ones load, and serve no refused request from the app; those
// whose paths meet the gate's are refused by it.
func TestAPostedCaddyfilesErrorRouteForOtherPathsLoads(t *testing.T) {
	sitetest.Parallel(t)
	globals := "{\n\tadmin localhost:{ADMIN_PORT}\n\thttp_port {HTTP_PORT}\n}\n"
	// Without a path matcher, the Caddyfile check refuses it at its line
	// (first: t takes its Caddy).
	sitetest.AssertLoadError(t, adminGateSiteWith("", ""), "at Caddyfile:17", "handle_errors hands the gate's refusals (401)")
	c := sitetest.NewClient(t, "")
	c.Accept = "application/json"
	post := func(cfg string) (int, string) {
		return sitetest.LoadCaddyfile(t, globals+strings.ReplaceAll(cfg, "{DIR}", filepath.Join(t.TempDir(), "store")))
	}
	for name, cfg := range otherPathsThanTheGates {
		if st, body := post(cfg); st != http.StatusOK {
			t.Errorf("%s: refused: %d %s", name, st, body)
			continue
		}
		for _, p := range []string{"/admin/x", "/admin/.smsgate/nothing", "/ADMIN/x"} {
			if res := c.GetWith(p, map[string]string{"Remote-User": "admin"}); res.StatusCode == http.StatusOK || strings.Contains(res.Text, "app's page") {
				t.Errorf("%s: %s: a refused request was served: %d %s", name, p, res.StatusCode, res.Text)
			}
		}
	}
	for _, cfg := range []string{
		adminGateSiteWith("@p path /admin/*", "@p"),
		adminGateSiteWith("@p path /public/* /admin/x", "@p"),
		adminGateSiteWith("@p path *.php", "@p"),
		adminGateSiteWith("@p path /admin/.smsgate/*", "@p"),
		adminGateSiteWith("", "/ADMIN/*"),
	} {
		st, body := post(cfg)
		if want := c.WithPorts("proxies to localhost:{HTTP_PORT}, the app's upstream the gate's routes proxy to"); st == http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("posted: %d %s, want %q\n%s", st, body, want, cfg)
		}
	}
}

// TestTheStartCheckRefusesWhatTheFileCheckRefusesByPath: the two checks
// answer alike for an error route to the app under a path matcher, the
// gate in a route of /admin/* (its pages under /admin/.smsgate/): the
// Caddyfile's refusals above are refused as JSON, its loads load. The
// start check probed only /admin/smsgate-probe, so an error route for
// the gate's pages (/admin/.smsgate/*) or *.php loaded and served the
// gate's refusals there from the app; it probes the gate's pages and the
// error routes' patterns met with the gate's now (a gate on every path:
// /public/smsgate-probe for an error route on /public/*). The Caddyfile's
// check read no site address's path (localhost/admin/*), and refused an
// error route for /public/* or /admin there, which the start check loads:
// it reads it now.
func TestTheStartCheckRefusesWhatTheFileCheckRefusesByPath(t *testing.T) {
	sitetest.Parallel(t)
	inner := strings.Replace(gatedRoute(`{"path": ["/admin/*"]}`), `"identity": "none"`, `"identity": "none", "path_prefix": "/admin/.smsgate/"`, 1)
	json := func(match string) string {
		return strings.NewReplacer("MATCH", `{"host": ["localhost"]}`, "INNER", inner, "NAMED", "",
			"ERRORS", `{"match": [`+match+`], "handle": [`+toTheAppJSON+`]}`).Replace(pathGate)
	}
	for _, match := range []string{
		`{"path": ["/admin/*"]}`, `{"path": ["/*"]}`, `{"path": ["*"]}`, `{"not": [{"path": ["/public/*"]}]}`,
		`{"path": ["/ADMIN/*"]}`, `{"path": ["/admin/.smsgate/*"]}`, `{"path": ["/public/*", "/admin/x"]}`,
		`{"path": ["*.php"]}`, `{"path_regexp": {"pattern": "^/public/"}}`, `{"path": ["/admin*"]}`, `{"path": ["/Admin/X"]}`,
	} {
		sitetest.AssertJSONLoadError(t, json(match), "s: errors route 0 proxies to localhost:{HTTP_PORT}, the app's upstream")
	}
	// A gate on every path: /public/x is refused too (the probe was
	// /smsgate-probe only, and the JSON loaded).
	everywhere := strings.NewReplacer("MATCH", `{"host": ["localhost"]}`, "INNER", gatedRoute(""), "NAMED", "",
		"ERRORS", `{"match": [{"path": ["/public/*"]}], "handle": [`+toTheAppJSON+`]}`).Replace(pathGate)
	sitetest.AssertJSONLoadError(t, everywhere, "s: errors route 0 proxies to localhost:{HTTP_PORT}", "path /public/smsgate-probe)")
	sitetest.AssertLoadError(t, strings.NewReplacer("CODES", "", "UPSTREAM", "/public/* localhost:{HTTP_PORT}", "HOST", "app.localhost").Replace(errorRouteSite),
		"Caddyfile:13", "handle_errors hands the gate's refusals (401) to localhost:{HTTP_PORT}")
	c := sitetest.NewClient(t, "")
	c.Accept = "application/json"
	for _, match := range []string{`{"path": ["/public/*"]}`, `{"path": ["/admin"]}`, `{"path": ["/public/*", "/static/*"], "method": ["GET"]}`} {
		if st, body := sitetest.Admin(t, http.MethodPost, "/load", c.WithPorts(strings.ReplaceAll(json(match), "{DIR}", filepath.Join(t.TempDir(), "store")))); st != http.StatusOK {
			t.Errorf("%s: refused: %d %s", match, st, body)
			continue
		}
		if res := c.GetWith("/admin/x", map[string]string{"Remote-User": "admin"}); strings.Contains(res.Text, "app's page") {
			t.Errorf("%s: a refused request was served: %d %s", match, res.StatusCode, res.Text)
		}
	}
	// A site address's path (localhost/admin/*) is the gate's path for both:
	// the Caddyfile's check read every path there and refused error routes
	// for /public/* or /admin, which the start check loads.
	for _, paths := range []string{"/public/*", "/admin"} {
		json, err := adaptedFrom(t, c, strings.ReplaceAll(addressPathSite, "PATHS", paths))
		if err != nil {
			t.Errorf("%s: the Caddyfile check refused: %v", paths, err)
			continue
		}
		if st, body := sitetest.Admin(t, http.MethodPost, "/load", json); st != http.StatusOK {
			t.Errorf("%s: the start check refused: %d %s", paths, st, body)
		} else if res := c.GetWith("/admin/x", map[string]string{"Remote-User": "admin"}); strings.Contains(res.Text, "app's page") {
			t.Errorf("%s: a refused request was served: %d %s", paths, res.StatusCode, res.Text)
		}
		for _, meets := range []string{"/admin/*", "*.php", "/ADMIN/X"} {
			_, err := adaptedFrom(t, c, strings.ReplaceAll(addressPathSite, "PATHS", meets))
			if want := c.WithPorts("handle_errors hands the gate's refusals (401) to localhost:{HTTP_PORT}"); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: adapting: %v, want %q", meets, err, want)
			}
			if paths == "/public/*" {
				sitetest.AssertJSONLoadError(t, strings.Replace(json, `"/public/*"`, `"`+meets+`"`, 1), "subroute route 0 proxies to localhost:{HTTP_PORT}, the app's upstream", "host localhost, path /admin/")
			}
		}
	}
}

// addressPathSite is a gate on a site address's path (localhost/admin/*),
// and a handle_errors proxying to the app for PATHS.
const addressPathSite = `http://localhost:{HTTP_PORT}/admin/* {
	smsgate {
		identity none
		enrollment closed
		path_prefix /admin/.smsgate/
		user carol +14155552671
		store badger {DIR}
		provider log
	}
	reverse_proxy localhost:{HTTP_PORT} {
		header_up Host app.localhost
	}
	handle_errors {
		reverse_proxy PATHS localhost:{HTTP_PORT} {
			header_up Host app.localhost
		}
	}
}
http://app.localhost:{HTTP_PORT} {
	respond "the app's page for [{http.request.header.Remote-User}]"
}`
