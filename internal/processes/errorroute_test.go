package processes

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAnErrorRouteServingTheSiteIsRefused: the gate's refusal (401) is
// Caddy's error, for the site's handle_errors; one that runs file_server
// on the refused path as it came served the protected file: curl of a
// page of the site answered 401 with the file's content as its body. Now
// `caddy validate` refuses it at the file_server's line, also where a
// try_files or rewrite keeps the path refused (try_files {path}, rewrite
// * {path}: before, any rewrite counted as a move, and they loaded); a
// handle_errors that serves its own pages (rewrite * /{err.status_code}.html)
// is valid; so is one with a root of its own, unless that is the site's or
// holds it (root * /srv/site where the site's is: it served the file).
func TestAnErrorRouteServingTheSiteIsRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct {
		errors, want string
		at           int // file_server's line, where it is not the block's last
	}{
		{"\t\tfile_server\n", "handle_errors serves the gate's refusals (401) with file_server at the path refused", 0},
		{"\t\trewrite * /{err.status_code}.html\n\t\tfile_server\n", "", 0},
		{"\t\ttry_files /{err.status_code}.html =404\n\t\tfile_server\n", "", 0},
		// Without a 401.html, try_files leaves the path refused
		// (TestAnErrorRouteThatMayKeepTheRefusedPathIsRefused).
		{"\t\ttry_files /{err.status_code}.html\n\t\tfile_server\n", "handle_errors serves the gate's refusals (401) with file_server at the path refused", 0},
		// The same path, written as a move: it served the protected file.
		{"\t\ttry_files {path} {path}/index.html\n\t\tfile_server\n", "handle_errors serves the gate's refusals (401) with file_server at the path refused", 0},
		{"\t\trewrite * {path}\n\t\tfile_server\n", "handle_errors serves the gate's refusals (401) with file_server at the path refused", 0},
		{"\t\trewrite * ?{query}\n\t\tfile_server\n", "handle_errors serves the gate's refusals (401) with file_server at the path refused", 0},
		// The path after a slash or a dot, which file_server cleans away
		// (rev7: each loaded, and served the protected file as the 401's
		// body); after a folder, another file.
		{"\t\trewrite * /{path}\n\t\tfile_server\n", "handle_errors serves the gate's refusals (401) with file_server at the path refused", 0},
		{"\t\trewrite * /.{uri}\n\t\tfile_server\n", "handle_errors serves the gate's refusals (401) with file_server at the path refused", 0},
		{"\t\ttry_files /{path} =404\n\t\tfile_server\n", "handle_errors serves the gate's refusals (401) with file_server at the path refused", 0},
		{"\t\trewrite * /errors{path}\n\t\tfile_server\n", "", 0},
		// A uri that changes only the paths it matches (rev7: each loaded,
		// and served the protected file); one matching every path whole, to
		// an error page, loads.
		{"\t\turi strip_prefix /errors\n\t\tfile_server\n", "handle_errors serves the gate's refusals (401) with file_server at the path refused", 0},
		{"\t\turi replace /nothere /x\n\t\tfile_server\n", "handle_errors serves the gate's refusals (401) with file_server at the path refused", 0},
		{"\t\turi path_regexp ^/ /errors/\n\t\tfile_server\n", "handle_errors serves the gate's refusals (401) with file_server at the path refused", 0},
		{"\t\turi path_regexp .* /{err.status_code}.html\n\t\tfile_server\n", "", 0},
		// A root of its own that is the site's, or holds it (rev7: each
		// loaded, and served the protected file as the 401's body); one
		// inside it, or elsewhere, is the error pages' own.
		{"\t\troot * " + dir + "\n\t\tfile_server\n", "handle_errors serves the gate's refusals (401) with file_server at the path refused", 0},
		{"\t\troot * " + dir + "/\n\t\tfile_server\n", "handle_errors serves the gate's refusals (401) with file_server at the path refused", 0},
		{"\t\troot " + filepath.Dir(dir) + "\n\t\tfile_server\n", "handle_errors serves the gate's refusals (401) with file_server at the path refused", 0},
		{"\t\tfile_server {\n\t\t\troot " + dir + "\n\t\t}\n", "handle_errors serves the gate's refusals (401) with file_server at the path refused", 15},
		{"\t\troot * " + filepath.Join(dir, "errors") + "\n\t\tfile_server\n", "", 0},
		{"\t\tfile_server {\n\t\t\troot " + filepath.Join(filepath.Dir(dir), "errors") + "\n\t\t}\n", "", 0},
	} {
		cfg := "{\n\tadmin off\n}\nhttp://localhost:8080 {\n\troot * " + dir + "\n" + `	smsgate {
		identity none
		enrollment closed
		user carol +14155552671
		store badger ` + filepath.Join(dir, "store") + `
		provider log
	}
	file_server
	handle_errors {
` + tc.errors + "\t}\n}\n"
		file := filepath.Join(dir, "Caddyfile")
		if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := runBuild(t, nil, "validate", "--config", file)
		at := fmt.Sprintf("Caddyfile:%d", cmp.Or(tc.at, 14+strings.Count(tc.errors, "\n"))) // file_server's line
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(out, tc.want) || !strings.Contains(out, at)) {
			t.Errorf("caddy validate: %v, want %q in:\n%s\n%s", err, tc.want, out, cfg)
		}
	}
}

// TestACatchAllsErrorRouteServingTheSiteIsRefused: a site block without
// handle_errors of its own gets a catch-all's (http://), which served the
// protected file at the refused path as the 401's body: `caddy validate`
// of the file loaded it. Now it refuses it at that file_server's line,
// naming the catch-all's handle_errors.
func TestACatchAllsErrorRouteServingTheSiteIsRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := "{\n\tadmin off\n\thttp_port 8080\n}\nhttp://localhost:8080 {\n\troot * " + dir + `
	smsgate {
		identity none
		enrollment closed
		user carol +14155552671
		store badger ` + filepath.Join(dir, "store") + `
		provider log
	}
	file_server
}
http:// {
	handle_errors {
		file_server
	}
}
`
	file := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := runBuild(t, nil, "validate", "--config", file)
	if err == nil || !strings.Contains(out, "handle_errors of site http:// ("+file+":17)") || !strings.Contains(out, "serves the gate's refusals (401) with file_server at the path refused") || !strings.Contains(out, file+":18") {
		t.Errorf("caddy validate: %v, want the catch-all's file_server refused in:\n%s", err, out)
	}
}

// TestAnErrorRouteForTheGatesOwnCodesServingTheSiteIsRefused: on its own
// paths the gate refuses anything but a browser with Caddy's errors (404
// for no such page), and `handle_errors 404 { file_server }` loaded: as
// Caddy's file_server cleans the path the gate took as its own,
// GET /.smsgate/%2e%2e/secret.txt, a 404 of the gate's, sent the protected
// /secret.txt (before: 404 with the file's content as its body). Now
// `caddy validate` refuses it at the file_server's line, as it refuses
// one for the 401.
func TestAnErrorRouteForTheGatesOwnCodesServingTheSiteIsRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := "{\n\tadmin off\n}\nhttp://localhost:8080 {\n\troot * " + dir + "\n" + `	smsgate {
		identity none
		enrollment closed
		user carol +14155552671
		store badger ` + filepath.Join(dir, "store") + `
		provider log
	}
	file_server
	handle_errors 404 {
		file_server
	}
}
`
	file := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := runCaddy(t, nil, "validate", "--config", file)
	if want := "handle_errors serves the gate's refusals (404 on its own paths) with file_server at the path refused"; err == nil || !strings.Contains(out, want) || !strings.Contains(out, "Caddyfile:15") {
		t.Errorf("caddy validate: %v, want %q at Caddyfile:15 in:\n%s", err, want, out)
	}
}
