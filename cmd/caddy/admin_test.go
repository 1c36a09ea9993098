package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestAdminCLI runs `caddy smsgate …` against a running Caddy (through its
// admin endpoint) and a stopped one (on the store), and moves the data to
// another store with export and import, losing nothing.
func TestAdminCLI(t *testing.T) {
	dir := t.TempDir()
	port, adminPort := freePort(t), freePort(t)
	base := fmt.Sprintf("http://localhost:%d", port)
	adminAddr := fmt.Sprintf("localhost:%d", adminPort)
	storeDir := filepath.Join(dir, "store")
	config, logFile := caddyfile(t, dir, "caddy", "admin "+adminAddr, fmt.Sprintf(`http://localhost:%d {
	respond /health 200
	smsgate {
		identity none
		realm cli.localhost
		store badger %s
		provider log
	}
	respond "hi"
}
`, port, storeDir))
	s := startCaddy(t, config, logFile, base)
	cli := func(args ...string) string {
		t.Helper()
		out, err := runCaddy(append(args, "--address", adminAddr, "--store", storeDir)...)
		if err != nil {
			t.Fatalf("caddy %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	cli("smsgate", "add", "--realm", "cli.localhost", "--user", "ivy", "--phone", "+14155552671", "--name", "Mobile")
	cli("smsgate", "add", "--realm", "cli.localhost", "--user", "jon", "--phone", "+447400123456")
	if out := cli("smsgate", "users", "--realm", "cli.localhost"); !strings.Contains(out, `"user":"ivy"`) || !strings.Contains(out, `"user":"jon"`) || strings.Contains(out, "5552671") {
		t.Fatalf("users (running):\n%s", out)
	}
	if out := cli("smsgate", "invite", "--realm", "cli.localhost", "--user", "kim", "--ttl", "1h"); !strings.Contains(out, "/.smsgate/invite?token=") {
		t.Fatalf("invite:\n%s", out)
	}
	cli("smsgate", "revoke", "--realm", "cli.localhost", "--user", "ivy")
	backup := filepath.Join(dir, "backup.json")
	cli("smsgate", "export", "--file", backup)
	if fi, err := os.Stat(backup); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("export file: %v %v", fi.Mode(), err)
	}
	s.stop()

	// Stopped: the same tools work on the store itself.
	out, err := runCaddy("smsgate", "users", "--realm", "cli.localhost", "--address", adminAddr, "--store", storeDir)
	if err != nil || !strings.Contains(out, `"user": "jon"`) {
		t.Fatalf("users (stopped): %v\n%s", err, out)
	}
	// Export → import into a new store → export again: record for record.
	other := filepath.Join(dir, "other")
	if out, err := runCaddy("smsgate", "import", "--file", backup, "--address", adminAddr, "--store", other); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	again := filepath.Join(dir, "again.json")
	if out, err := runCaddy("smsgate", "export", "--file", again, "--address", adminAddr, "--store", other); err != nil {
		t.Fatalf("export again: %v\n%s", err, out)
	}
	if a, b := records(t, backup), records(t, again); strings.Join(a, "\n") != strings.Join(b, "\n") || len(a) < 4 {
		t.Fatalf("the round trip changed the data:\n%s\n---\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
	}
}

func records(t *testing.T, file string) []string {
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var recs []struct {
		Key   string
		Value json.RawMessage
	}
	if err := json.Unmarshal(raw, &recs); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range recs {
		out = append(out, r.Key+" = "+string(r.Value))
	}
	sort.Strings(out)
	return out
}
