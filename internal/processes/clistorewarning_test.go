package processes

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/harness"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestTheCLIsStoreWarningIsOneLine: `caddy smsgate revoke --config` with
// Caddy stopped, on a Redis that keeps nothing on disk: the store's
// warning reaches the admin's terminal as one line (Caddy's own log, as
// its other lines), with no Go stack trace and no source file under it
// (whatever the command then says: this realm is new to the store). Before, the CLI loaded the store in a
// Caddy context without a config, whose logger is zap's development one:
// the warning came with its caller and a stack of twenty lines (attack28,
// noticed).
func TestTheCLIsStoreWarningIsOneLine(t *testing.T) {
	t.Parallel()
	config, _ := caddyfile(t, t.TempDir(), "caddy", "", fmt.Sprintf(`http://localhost:%d {
	smsgate {
		identity none
		store redis %s
		provider log
	}
}
`, harness.Port(t), redistest.Server(t)))
	out, _ := runCaddy(t, nil, "smsgate", "revoke", "--realm", "localhost", "--user", "liv", "--config", config, "--address", fmt.Sprintf("localhost:%d", harness.Port(t)))
	var warned []string
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "keeps nothing on disk") {
			warned = append(warned, line)
		}
	}
	if len(warned) != 1 || !strings.Contains(strings.ToLower(warned[0]), "warn") {
		t.Fatalf("the store's warning: %q, want one line:\n%s", warned, out)
	}
	if stack := regexp.MustCompile(`\.go:\d+|goroutine |\n\t\S`).FindString(out); stack != "" {
		t.Errorf("the CLI's output holds a stack or a source line (%q):\n%s", stack, out)
	}
}
