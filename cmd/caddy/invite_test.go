package main

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/harness"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAdminCLIRefusesAnInviteNoGateTakes: `caddy smsgate invite` for a
// name no login form of the realm signs in (the realm's two login forms,
// on one store, name alice and carol, and bob under /bob/:
// sitetest.NamedForms; dave is nobody's) is
// refused with words that name him and say why, through the running
// Caddy's admin API and, Caddy stopped, on the store its config names
// (--config, read once: the config's gates say whom they sign in); bob's
// invite leads to his gate. With a Badger folder alone (--store) no
// config says whom the gates sign in, and the invite is made. Before,
// dave's invite was made everywhere, its link refused at every gate.
func TestAdminCLIRefusesAnInviteNoGateTakes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	storeDir := filepath.Join(dir, "store")
	sock := listen(t)
	adminAddr := fmt.Sprintf("localhost:%d", harness.Port(t))
	base := fmt.Sprintf("http://localhost:%d", sock.Port)
	site := strings.NewReplacer("{HTTP_PORT}", strconv.Itoa(sock.Port), "{DIR}", storeDir).Replace(sitetest.NamedForms(""))
	config, logFile := caddyfile(t, dir, "caddy", "admin "+adminAddr, site)
	s := startCaddy(t, sock, config, logFile, base)
	const why = "no gate of realm localhost signs in dave, so its link could never be used"
	invite := func(how, user, want string, refused bool, where ...string) {
		t.Helper()
		out, err := runCaddy(t, nil, append([]string{"smsgate", "invite", "--realm", "localhost", "--user", user, "--address", adminAddr}, where...)...)
		t.Logf("%s, invite %s: %s", how, user, strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:]))
		if (err != nil) != refused || !strings.Contains(out, want) || strings.Contains(out, "goroutine") {
			t.Errorf("%s: invite for %s: %v, want refused %v saying %q\n%s", how, user, err, refused, want, out)
		}
	}
	// A phone of bob's, so that the store holds the realm (for --store).
	if out, err := runCaddy(t, nil, "smsgate", "add", "--realm", "localhost", "--user", "bob", "--phone", "+14155550123", "--address", adminAddr); err != nil {
		t.Fatalf("add: %v\n%s", err, out)
	}
	invite("running", "dave", why, true)
	invite("running", "bob", base+"/bob/.smsgate/invite?token=", false)
	s.stop()

	invite("stopped, --config", "dave", why, true, "--config", config)
	// Without --address: the config names the admin endpoint, which does
	// not answer, then the store and the gates: read once for all.
	out, err := runCaddy(t, nil, "smsgate", "invite", "--realm", "localhost", "--user", "dave", "--config", config)
	if err == nil || !strings.Contains(out, why) || strings.Count(out, "using config from file") != 1 {
		t.Errorf("invite for dave through the config's admin address: %v, want refused, the config read once\n%s", err, out)
	}
	invite("stopped, --config", "bob", base+"/bob/.smsgate/invite?token=", false, "--config", config)
	invite("stopped, --store", "dave", "/.smsgate/invite?token=", false, "--store", storeDir)
}
