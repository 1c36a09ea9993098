package continuity

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
)

// TestTheTestsDataDirectoryIsTheirOwn: a test binary run through
// harness.Main keeps Caddy's data directory (where Dir, a gate's memory of
// its stores, and the default Badger store go) in a folder of its own
// (harness.OwnData), never the user's ~/.local/share/caddy, where a stray
// default store had appeared (resid37). Before, a binary without
// XDG_DATA_HOME set used the user's (checked: this failed).
func TestTheTestsDataDirectoryIsTheirOwn(t *testing.T) {
	data := caddy.AppDataDir()
	if !strings.Contains(data, "smsgate-run-data-") {
		t.Errorf("Caddy's data directory in the tests is %s; want a folder of the test binary's own", data)
	}
	if home, err := os.UserHomeDir(); err == nil && strings.HasPrefix(data, filepath.Join(home, ".local")) {
		t.Errorf("the tests' data directory is the user's: %s", data)
	}
	if !strings.HasPrefix(Dir(), data) {
		t.Errorf("the gates' memory (%s) is not in the tests' data directory", Dir())
	}
}
