package main

import (
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
