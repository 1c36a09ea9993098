package browser_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestMain runs the tests through this binary's own Caddy (see sitetest),
// and stops the tests' Chromium at the end.
func TestMain(m *testing.M) { sitetest.Main(m, stopChromium) }

// TestCaddysStorageIsTheTests: the in-process Caddy keeps its storage
// (locks, instance.uuid, its local CA) in the tests' data directory.
// caddy.DefaultStorage is made when the package loads, before TestMain
// set XDG_DATA_HOME: it was the user's ~/.local/share/caddy, whose locks
// directory this package's run changed, shared with every other copy of
// the tests and with the user's own Caddy.
func TestCaddysStorageIsTheTests(t *testing.T) {
	data := os.Getenv("XDG_DATA_HOME")
	if rel, err := filepath.Rel(data, caddy.DefaultStorage.Path); data == "" || err != nil || strings.HasPrefix(rel, "..") {
		t.Fatalf("caddy's default storage is %s, outside the tests' data directory %q", caddy.DefaultStorage.Path, data)
	}
}
