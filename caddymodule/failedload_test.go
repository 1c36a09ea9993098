package caddymodule_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/harness"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestFailedLoadLeavesNoStoreOpen: a config that fails after a gate of it
// opened its store (a later gate's templates are missing; a later gate's
// Redis refuses) is cleaned up by Caddy; the gate's store, loaded in a
// context of the gate's own, must be closed with it: no file of its folder
// stays open in Caddy, and a config loaded next on the same folder works.
func TestFailedLoadLeavesNoStoreOpen(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "")
	folder := filepath.Join(t.TempDir(), "store")
	config := func(second string) string {
		return fmt.Sprintf(`{
	admin localhost:{ADMIN_PORT}
	http_port {HTTP_PORT}
}
http://localhost:{HTTP_PORT} {
	basic_auth argon2id {
		alice %[1]s
	}
	smsgate {
		store badger %[2]s
		provider log
	}
	respond ok
}
http://127.0.0.1:{HTTP_PORT} {
	basic_auth argon2id {
		alice %[1]s
	}
	smsgate {
		%[3]s
		provider log
	}
	respond ok
}`, sitetest.DemoHash, folder, second)
	}
	sitetest.AssertLoadError(t, config("store badger "+folder+"-other\n\t\ttemplates_dir "+folder+"-missing"), "templates")
	refusing := fmt.Sprintf("127.0.0.1:%d", harness.Port(t))
	sitetest.AssertLoadError(t, config("store redis "+refusing), "redis store at ["+refusing+"]")
	if _, err := os.Stat(filepath.Join(folder, "MANIFEST")); err != nil {
		t.Fatalf("the first gate never opened its store (the test tests nothing): %v", err)
	}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", s.PID()))
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		if to, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", s.PID(), fd.Name())); strings.HasPrefix(to, folder) {
			t.Errorf("Caddy holds %s open after the config failed", to)
		}
	}
}
