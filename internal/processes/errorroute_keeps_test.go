package processes

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAnErrorRouteThatMayKeepTheRefusedPathIsRefused: a handle_errors
// whose rewrite or try_files leaves the refused path in place for some
// requests still serves the protected file as the 401's body. Each case
// here loaded at 60ccfa8 (this test fails there) and, through a real
// Caddy, answered `curl -H 'Accept: application/json' /secret.txt` with
// 401 and the file's content:
//   - a rewrite under a matcher (@html), its own or a route's: a client
//     the matcher leaves out (curl) gets the refused path;
//   - try_files /{err.status_code}.html: try_files rewrites only to a file
//     that exists, and a site with 404.html and 50x.html but no 401.html
//     serves the refused path (only a last "=404" ends the try there);
//   - try_files {dir}{file}: the refused path, spelt otherwise;
//   - a site served by php_fastcgi (which serves the site's files itself,
//     without a file_server line): a bare file_server in handle_errors
//     sent the PHP source (its database password) as the 401's body.
//
// A handle_errors that always moves loads.
func TestAnErrorRouteThatMayKeepTheRefusedPathIsRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const refused = "handle_errors serves the gate's refusals (401) with file_server at the path refused"
	for _, tc := range []struct{ site, errors, want string }{
		{"file_server", "\t\t@html header Accept *text/html*\n\t\trewrite @html /error.html\n\t\tfile_server\n", refused},
		{"file_server", "\t\troute @html {\n\t\t\trewrite * /error.html\n\t\t}\n\t\tfile_server\n", refused},
		{"file_server", "\t\ttry_files /{err.status_code}.html\n\t\tfile_server\n", refused},
		{"file_server", "\t\ttry_files /{err.status_code}.html /error.html\n\t\tfile_server\n", refused},
		{"file_server", "\t\ttry_files {dir}{file}\n\t\tfile_server\n", refused},
		{"php_fastcgi localhost:9000", "\t\tfile_server\n", refused},
		// These always move: valid.
		{"file_server", "\t\ttry_files /{err.status_code}.html =404\n\t\tfile_server\n", ""},
		{"file_server", "\t\t@html header Accept *text/html*\n\t\trewrite @html /error.html\n\t\trewrite * /{err.status_code}.html\n\t\tfile_server\n", ""},
		{"php_fastcgi localhost:9000", "\t\trewrite * /{err.status_code}.html\n\t\tfile_server\n", ""},
		// The move on the file_server's own way: valid.
		{"file_server", "\t\t@html header Accept *text/html*\n\t\thandle @html {\n\t\t\trewrite * /error.html\n\t\t\tfile_server\n\t\t}\n\t\thandle {\n\t\t\trespond \"unauthenticated\" 401\n\t\t}\n", ""},
		{"file_server", "\t\troute {\n\t\t\trewrite * /error.html\n\t\t}\n\t\tfile_server\n", ""},
		// file_server's own root, as a root line: another tree (a false
		// refusal at 60ccfa8, which read root lines only).
		{"file_server", "\t\tfile_server {\n\t\t\troot /srv/errors\n\t\t}\n", ""},
	} {
		cfg := "{\n\tadmin off\n}\nhttp://localhost:8080 {\n\troot * " + dir + "\n" + `	smsgate {
		identity none
		enrollment closed
		user carol +14155552671
		store badger ` + filepath.Join(dir, "store") + `
		provider log
	}
	` + tc.site + `
	handle_errors {
` + tc.errors + "\t}\n}\n"
		file := filepath.Join(dir, "Caddyfile")
		if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := runBuild(t, nil, "validate", "--config", file)
		at := fmt.Sprintf("Caddyfile:%d", 14+strings.Count(tc.errors, "\n")) // file_server's line
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(out, tc.want) || !strings.Contains(out, at)) {
			t.Errorf("caddy validate: %v, want %q in:\n%s\n%s", err, tc.want, out, cfg)
		}
	}
}
