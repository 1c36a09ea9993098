package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAnErrorRouteServingTheSiteIsRefused: the gate's refusal (401) is
// Caddy's error, for the site's handle_errors; one that runs file_server
// on the refused path as it came served the protected file: curl of a
// page of the site answered 401 with the file's content as its body. Now
// `caddy validate` refuses it at the file_server's line; a handle_errors
// that serves its own pages (rewrite * /{err.status_code}.html) is valid.
func TestAnErrorRouteServingTheSiteIsRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct{ errors, want string }{
		{"\t\tfile_server\n", "handle_errors serves the gate's refusals (401) with file_server at the path refused"},
		{"\t\trewrite * /{err.status_code}.html\n\t\tfile_server\n", ""},
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
		out, err := runCaddy(t, nil, "validate", "--config", file)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(out, tc.want) || !strings.Contains(out, "Caddyfile:15")) {
			t.Errorf("caddy validate: %v, want %q in:\n%s\n%s", err, tc.want, out, cfg)
		}
	}
}
