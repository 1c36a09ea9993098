package processes

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestTheTestsCaddyWritesInTheTest: a Caddy these tests start saves the
// config it loaded (`caddy run` writes autosave.json, for --resume) in the
// test's directory. It went to $XDG_CONFIG_HOME/caddy, which was the
// user's ~/.config/caddy: every Caddy of every copy of the tests wrote over
// one file there, and over the config a developer's own Caddy had saved.
func TestTheTestsCaddyWritesInTheTest(t *testing.T) {
	t.Parallel()
	sock := listen(t)
	base := fmt.Sprintf("http://localhost:%d", sock.Port)
	dir := t.TempDir()
	config, logFile := caddyfile(t, dir, "writes", "", fmt.Sprintf("http://localhost:%d {\n\trespond \"hi\"\n}\n", sock.Port))
	startCaddy(t, sock, config, logFile, base)
	// Caddy saves the config after its servers start, so the answer that
	// startCaddy waited for can come first.
	saved := filepath.Join(dir, "config", "caddy", "autosave.json")
	for start := time.Now(); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(saved); err == nil {
			break
		}
		if time.Since(start) > 30*time.Second {
			t.Fatalf("no %s 30 s after Caddy answered: its config was saved somewhere else", saved)
		}
	}
}
