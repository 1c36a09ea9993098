package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// `caddy validate` on a config that cannot run says what is wrong, with its
// line, and leaves nothing behind: the config is checked before any store
// is opened (on main the store's folder was made first). An enclosing
// block's matcher is checked too: read from the file.
func TestValidateRefusesWithTheLineAndOpensNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for i, tc := range []struct{ site, want string }{
		{`	basic_auth {
		alice ` + demoHash + `
	}
	smsgate {
		store badger STORE
		provider log
		signing_key {env.SMSGATE_VALIDATE_UNSET}
	}`, "signing_key is empty"},
		{`	handle /app/* {
		basic_auth {
			alice ` + demoHash + `
		}
		smsgate {
			store badger STORE
			provider log
		}
		respond "app"
	}`, "handle /app/* leaves /.smsgate/login to other handlers"},
		{`	smsgate {
		identity {header.Remote-User}
		store badger STORE
		provider log
	}`, "Caddyfile:6"},
	} {
		store := filepath.Join(dir, "store", string(rune('a'+i)))
		file := filepath.Join(dir, "Caddyfile")
		cfg := "{\n\tadmin off\n}\nhttp://localhost:8080 {\n" + strings.ReplaceAll(tc.site, "STORE", store) + "\n}\n"
		if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := runCaddy(t, []string{"SMSGATE_VALIDATE_UNSET="}, "validate", "--config", file)
		if err == nil || !strings.Contains(out, tc.want) || (i > 0 && !strings.Contains(out, "Caddyfile:")) {
			t.Errorf("%d: caddy validate: %v, want %q in:\n%s", i, err, tc.want, out)
		}
		if _, err := os.Stat(store); !os.IsNotExist(err) {
			t.Errorf("%d: caddy validate of a refused config made %s", i, store)
		}
	}
}

// A mistake that may be meant is a warning, not a refusal: `caddy adapt`
// (as `caddy run` and `caddy reload`, which adapt the same way) prints it
// with its file and line, and the config adapts.
func TestAdaptWarnsWithTheLine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for i, tc := range []struct {
		name, site, msg string
		line            int
	}{
		{"a path_prefix without a dot segment", `http://localhost:8080 {
	basic_auth {
		alice ` + demoHash + `
	}
	smsgate {
		path_prefix /auth/
		provider log
	}
}`, `"msg":"smsgate: path_prefix /auth/: every path under it is the gate's`, 6},
		{"no first factor before the gate", `http://localhost:8080 {
	smsgate {
		provider log
	}
}`, `"msg":"smsgate: identity {http.auth.user.id}: no basic_auth runs before smsgate`, 2},
		{"a forward_auth that skips some requests", `http://localhost:8080 {
	@private not path /public/*
	forward_auth @private 127.0.0.1:9 {
		uri /verify
		copy_headers Remote-User
	}
	smsgate {
		identity {header.Remote-User}
		provider log
	}
}`, `"msg":"smsgate: forward_auth @private does not run for every request; where it does not, Remote-User names nobody`, 3},
	} {
		file := filepath.Join(dir, fmt.Sprintf("Caddyfile%d", i))
		if err := os.WriteFile(file, []byte(tc.site), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := runCaddy(t, nil, "adapt", "--config", file)
		line := fmt.Sprintf(`"file":%q,"line":%d`, file, tc.line)
		if err != nil || !strings.Contains(out, tc.msg) || !strings.Contains(out, line) {
			t.Errorf("%s: caddy adapt: %v, want %s with %s in:\n%s", tc.name, err, tc.msg, line, out)
		}
	}
}
