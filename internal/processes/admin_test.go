package processes

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/admin"
	"github.com/smsgate/caddy-smsgate/internal/harness"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestAdminCLI runs `caddy smsgate …` against a running Caddy (through its
// admin endpoint) and a stopped one (on the store), and moves the data to
// another store with export and import, losing nothing.
func TestAdminCLI(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	storeDir := filepath.Join(dir, "store")
	s, adminAddr, config := adminCaddy(t, dir, "cli.localhost", "badger "+storeDir)
	base := s.base
	// The commands run in this test's process (runInProcess), but for
	// one through the running Caddy and one on its stopped store: the
	// command as an admin runs it, a process of its own.
	cli := func(args ...string) string {
		t.Helper()
		out, err := runInProcess(t, append(args, "--address", adminAddr, "--store", storeDir)...)
		if err != nil {
			t.Fatalf("caddy %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	if out, err := runCaddy(t, nil, "smsgate", "add", "--realm", "cli.localhost", "--user", "ivy", "--phone", "+14155552671", "--name", "Mobile", "--address", adminAddr); err != nil {
		t.Fatalf("add: %v\n%s", err, out)
	}
	cli("smsgate", "add", "--realm", "cli.localhost", "--user", "jon", "--phone", "+447400123456")
	if out := cli("smsgate", "users", "--realm", "cli.localhost", "--json"); !strings.Contains(out, `"user":"ivy"`) || !strings.Contains(out, `"user":"jon"`) || strings.Contains(out, "5552671") {
		t.Fatalf("users --json (running):\n%s", out)
	}
	// For people: an aligned table, a row per phone, numbers masked.
	table := cli("smsgate", "users", "--realm", "cli.localhost")
	if !strings.Contains(table, "USER") || !strings.Contains(table, "RECOVERY CODES LEFT") || !regexp.MustCompile(`(?m)^ivy\s+phone\s+\+1•••••••671\s+\S+\s+Mobile`).MatchString(table) || strings.Contains(table, "5552671") {
		t.Fatalf("users (table):\n%s", table)
	}
	// The whole link, on the site's own address.
	if out := cli("smsgate", "invite", "--realm", "cli.localhost", "--user", "kim", "--ttl", "1h"); !strings.Contains(out, base+"/.smsgate/invite?token=") {
		t.Fatalf("invite:\n%s", out)
	}
	cli("smsgate", "revoke", "--realm", "cli.localhost", "--user", "ivy")
	// A name that holds nothing (a typo of ivy) is told, not "reset": a
	// non-zero exit with the admin API's sentence
	// (TestTheAdminAPISaysWhatItDidNotDo; on a stopped Caddy's store the
	// CLI runs the same adminOp).
	if out, err := runInProcess(t, "smsgate", "reset", "--realm", "cli.localhost", "--user", "ivvy", "--address", adminAddr); err == nil || !strings.Contains(out, "answered 404: No such user: ivvy holds no phone") {
		t.Fatalf("reset of a name that holds nothing: %v\n%s", err, out)
	}
	// A realm this Caddy does not serve is an error, never another site.
	if out, err := runInProcess(t, "smsgate", "reset", "--realm", "b.example", "--user", "ivy", "--address", adminAddr); err == nil || !strings.Contains(out, `no smsgate handler serves realm b.example`) {
		t.Fatalf("reset of an unknown realm: %v\n%s", err, out)
	}
	// An export holds no keys unless asked; asked, it warns; an existing
	// file with a wider mode is rewritten 0600.
	plain := filepath.Join(dir, "plain.json")
	if err := os.WriteFile(plain, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	cli("smsgate", "export", "--file", plain)
	if fi, err := os.Stat(plain); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("export over an 0644 file: %v %v", fi.Mode(), err)
	}
	for _, r := range records(t, plain) {
		if strings.HasPrefix(r, "keys/") || strings.HasPrefix(r, "b64:keys/") {
			t.Fatalf("an export without --with-keys holds %s", r)
		}
	}
	backup := filepath.Join(dir, "backup.json")
	if out := cli("smsgate", "export", "--file", backup, "--with-keys"); !strings.Contains(out, "WARNING") {
		t.Fatalf("export --with-keys gave no warning:\n%s", out)
	}
	// ... and asks for the keys by POST, not by the deprecated GET.
	if got, err := harness.Log(s.log).Entries(admin.DeprecatedKeysByGET); err != nil || len(got) != 0 {
		t.Fatalf("export --with-keys asked by GET: %v %v", got, err)
	}
	// A symlink at the name (planted by another user, say) is replaced by
	// a file of the export's own, never written through, keys or not.
	victim := filepath.Join(dir, "victim.conf")
	if err := os.WriteFile(victim, []byte("someone else's"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.json")
	if err := os.Symlink(victim, link); err != nil {
		t.Fatal(err)
	}
	cli("smsgate", "export", "--file", link, "--with-keys")
	if raw, _ := os.ReadFile(victim); string(raw) != "someone else's" {
		t.Fatalf("the export wrote through a symlink into %s: %.60q", victim, raw)
	}
	if fi, err := os.Lstat(link); err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 || len(records(t, link)) == 0 {
		t.Fatalf("the export at the symlink's name: %v %v", fi.Mode(), err)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, ".*.json.*")); len(leftovers) != 0 {
		t.Fatalf("temporary files left behind: %v", leftovers)
	}
	s.stop()

	// Stopped: the same tools work on the store itself.
	out, err := runCaddy(t, nil, "smsgate", "users", "--json", "--realm", "cli.localhost", "--address", adminAddr, "--store", storeDir)
	if err != nil || !strings.Contains(out, `"user": "jon"`) {
		t.Fatalf("users (stopped): %v\n%s", err, out)
	}
	// ... or the config's store; and never a store nobody named.
	if out, err := runInProcess(t, "smsgate", "users", "--json", "--address", adminAddr, "--config", config); err != nil || !strings.Contains(out, `"user": "jon"`) {
		t.Fatalf("users (stopped, --config): %v\n%s", err, out)
	}
	if out, err := runInProcess(t, "smsgate", "revoke", "--realm", "cli.localhost", "--user", "jon", "--address", adminAddr); err == nil || !strings.Contains(out, "give --config") {
		t.Fatalf("revoke with Caddy stopped and no store named: %v\n%s", err, out)
	}
	if out, err := runInProcess(t, "smsgate", "revoke", "--realm", "cli.localhost", "--user", "jon", "--address", adminAddr, "--store", filepath.Join(dir, "typo")); err == nil || !strings.Contains(out, "no smsgate store at") {
		t.Fatalf("revoke on a store folder that does not exist: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "typo")); !os.IsNotExist(err) {
		t.Fatalf("a revoke created a store folder: %v", err)
	}
	// Export → import into a new store (a realm new to it: --new-realm) →
	// export again: record for record.
	other := filepath.Join(dir, "other")
	if out, err := runInProcess(t, "smsgate", "import", "--file", backup, "--address", adminAddr, "--store", other, "--new-realm"); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	again := filepath.Join(dir, "again.json")
	if out, err := runInProcess(t, "smsgate", "export", "--with-keys", "--file", again, "--address", adminAddr, "--store", other); err != nil {
		t.Fatalf("export again: %v\n%s", err, out)
	}
	if a, b := records(t, backup), records(t, again); strings.Join(a, "\n") != strings.Join(b, "\n") || len(a) < 4 || !strings.Contains(strings.Join(a, "\n"), "keys/secret") {
		t.Fatalf("the round trip changed the data:\n%s\n---\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
	}
	// jon's phone lost and reset since: the backup imported again leaves
	// it out, and says so (enrollment's tombstones.go).
	if out, err := runInProcess(t, "smsgate", "reset", "--realm", "cli.localhost", "--user", "jon", "--address", adminAddr, "--store", other); err != nil {
		t.Fatalf("reset: %v\n%s", err, out)
	}
	if out, err := runInProcess(t, "smsgate", "import", "--file", backup, "--address", adminAddr, "--store", other); err != nil || !strings.Contains(out, "1 device removed since the export was not restored") {
		t.Fatalf("the backup imported after a reset: %v\n%s", err, out)
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

// adminCaddy starts a Caddy with an admin endpoint of its own, serving one
// smsgate site (identity none, the log provider) on store ("badger DIR",
// "redis ADDR"), with realm (none: the site's host name), for the CLI's
// tests. It returns the Caddy, its admin endpoint (the CLI's --address)
// and its Caddyfile (--config).
func adminCaddy(t *testing.T, dir, realm, store string) (s *server, adminAddr, config string) {
	t.Helper()
	sock := listen(t)
	adminAddr = fmt.Sprintf("localhost:%d", harness.Port(t))
	if realm != "" {
		realm = "realm " + realm
	}
	config, logFile := caddyfile(t, dir, "caddy", "admin "+adminAddr, fmt.Sprintf(`http://localhost:%d {
	respond /health 200
	smsgate {
		identity none
		%s
		store %s
		provider log
	}
	respond "hi"
}
`, sock.Port, realm, store))
	return startCaddy(t, sock, config, logFile, fmt.Sprintf("http://localhost:%d", sock.Port)), adminAddr, config
}

// TestAdminCLIOnAStoppedRedis: with Caddy stopped and a Redis store
// configured, the CLI works on that Redis (through --config), not on an
// empty Badger folder it made up.
func TestAdminCLIOnAStoppedRedis(t *testing.T) {
	t.Parallel()
	s, adminAddr, config := adminCaddy(t, t.TempDir(), "", "redis "+redistest.Server(t))
	if out, err := runInProcess(t, "smsgate", "add", "--realm", "localhost", "--user", "liv", "--phone", "+14155552671", "--address", adminAddr); err != nil {
		t.Fatalf("add: %v\n%s", err, out)
	}
	s.stop()
	home := t.TempDir() // Caddy's data directory, where a made-up Badger store would land
	run := func(args ...string) (string, error) {
		return runCaddy(t, []string{"HOME=" + home, "XDG_DATA_HOME=" + home}, append(args, "--address", adminAddr)...)
	}
	if out, err := run("smsgate", "reset", "--realm", "localhost", "--user", "liv"); err == nil {
		t.Fatalf("reset with no store named reported success:\n%s", out)
	}
	// The realm as the admin typed it (the config's, in other letters):
	// the reset lands on the realm's records, not on a realm nobody uses.
	if out, err := run("smsgate", "reset", "--realm", "LocalHost", "--user", "liv", "--config", config); err != nil || !strings.Contains(out, `"reset": "liv"`) {
		t.Fatalf("reset through --config: %v\n%s", err, out)
	}
	if out, err := run("smsgate", "users", "--json", "--realm", "localhost", "--config", config); err != nil || strings.Contains(out, "liv") {
		t.Fatalf("users after the reset: %v\n%s", err, out)
	}
	if out, err := run("smsgate", "users", "--realm", "elsewhere", "--config", config); err == nil || !strings.Contains(out, `no smsgate handler serves realm elsewhere`) {
		t.Fatalf("an unknown realm: %v\n%s", err, out)
	}
	// Without --address, the config names the admin endpoint, which does
	// not answer, then the store: read once for both (before: twice).
	out, err := runCaddy(t, []string{"HOME=" + home, "XDG_DATA_HOME=" + home}, "smsgate", "users", "--json", "--realm", "localhost", "--config", config)
	if err != nil || !strings.Contains(out, "does not answer: working on the store directly") {
		t.Fatalf("users through the config's admin address: %v\n%s", err, out)
	}
	if n := strings.Count(out, "using config from file"); n != 1 {
		t.Errorf("the CLI read its config %d times, not once:\n%s", n, out)
	}
	filepath.WalkDir(home, func(path string, d os.DirEntry, err error) error {
		if err == nil && d.Name() == "MANIFEST" {
			t.Errorf("the CLI made a Badger store at %s", filepath.Dir(path))
		}
		return nil
	})
}

// TestAdminCLIOnAHungRedis: with Redis paused (a hung server: connections
// open, no answer), the CLI says the store did not answer, soon, and
// exits with an error: through the running Caddy's admin API (whose
// requests have the pages' store budget) and on a stopped Caddy's store
// (--config: the store's start finds it does not answer). Before, the CLI waited as long as the admin API did: 40 s
// for `sessions` and `figures` (go-redis's read timeout on each call in a
// row). The bound is a hang detector, not a measure.
func TestAdminCLIOnAHungRedis(t *testing.T) {
	t.Parallel()
	r := redistest.Start(t)
	s, adminAddr, config := adminCaddy(t, t.TempDir(), "hung.localhost", "redis "+r.Addr)
	if out, err := runInProcess(t, "smsgate", "add", "--user", "liv", "--phone", "+14155552671", "--address", adminAddr); err != nil {
		t.Fatalf("add: %v\n%s", err, out)
	}
	hung := func(how, want string, args ...string) {
		t.Helper()
		start := time.Now()
		out, err := runInProcess(t, append([]string{"smsgate"}, args...)...)
		took := time.Since(start)
		t.Logf("%s, %s: after %s: %s", how, strings.Join(args, " "), took.Round(10*time.Millisecond), strings.TrimSpace(out))
		if err == nil || !strings.Contains(out, want) || strings.Contains(out, "goroutine") {
			t.Errorf("%s, %s with Redis hung: %v\n%s", how, strings.Join(args, " "), err, out)
		}
		if took > 15*time.Second { // a hang detector: the budget is 3 s
			t.Errorf("%s, %s with Redis hung: answered after %s", how, strings.Join(args, " "), took.Round(time.Second))
		}
	}
	// The commands of each phase wait out their budgets side by side (each
	// its own CLI command and its own request), not one after another.
	all := func(how, want string, extra []string, cmds ...[]string) {
		t.Helper()
		var wg sync.WaitGroup
		for _, args := range cmds {
			wg.Go(func() { hung(how, want, append(args, extra...)...) })
		}
		wg.Wait()
	}
	r.Pause()
	all("running", "caddy's admin endpoint answered 503: the store did not answer", []string{"--address", adminAddr},
		[]string{"sessions", "--user", "liv"}, []string{"figures"}, []string{"reset", "--user", "liv"})
	r.Resume()
	s.stop()
	r.Pause()
	defer r.Resume()
	// The store's own start (its first PING, 5 s at most) finds it.
	all("stopped", "opening the redis store of realm hung.localhost", []string{"--address", adminAddr, "--config", config},
		[]string{"sessions", "--user", "liv"}, []string{"reset", "--user", "liv"})
}

// TestAdminCLIChecksWhatTheAPIChecks: on a stopped Caddy's store the CLI
// refuses what the running admin API refuses — a new name nobody could
// sign in as, a realm the store does not hold (a typo must not "revoke"
// nobody on an empty realm) — and an import writes only the realm it
// names: the checks are the admin API's own, in one place. A realm new to
// the store (a first import into a new folder) needs --new-realm. Before,
// the CLI with --store checked neither, and an import wrote whatever
// realms its file held, through the API too. (An import's names are not
// checked, by either: a store from before may hold names nobody can sign
// in as, and its export must go back in as it came out.)
func TestAdminCLIChecksWhatTheAPIChecks(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	storeDir := filepath.Join(dir, "store")
	s, adminAddr, _ := adminCaddy(t, dir, "cli.localhost", "badger "+storeDir)
	run := func(args ...string) (string, error) {
		return runInProcess(t, append(append([]string{"smsgate"}, args...), "--address", adminAddr)...)
	}
	// The refusal is the output's last line (the CLI's error), said once:
	// no "import: import: …" (doubled).
	doubled := func(said string) bool {
		first, rest, _ := strings.Cut(said, ": ")
		return first != "" && strings.HasPrefix(rest, first+": ")
	}
	refused := func(want string, args ...string) string {
		t.Helper()
		out, err := run(args...)
		said := strings.TrimSpace(out)
		said = said[strings.LastIndex(said, "\n")+1:]
		t.Logf("smsgate %s → %s", args[0], said)
		if err == nil || !strings.Contains(out, want) || strings.Contains(out, "goroutine") || doubled(said) {
			t.Errorf("smsgate %s: %v, want an error saying %q, once\n%s", strings.Join(args, " "), err, want, out)
		}
		return said
	}
	// The refusal of an import's record, from the store's own check, says
	// "import:" once: through the admin API, and on a stopped Caddy's
	// store (below). Before, the tests' log made it look doubled.
	badKeys := filepath.Join(dir, "badkeys.json")
	if err := os.WriteFile(badKeys, []byte(`[{"key":"b64:keys/secret","value":"YWJj"}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	const badKeysSaid = "import: keys/secret is not a record smsgate exports: 3 bytes"
	if said := refused(badKeysSaid, "import", "--file", badKeys); !strings.HasPrefix(said, "caddy's admin endpoint answered 400: "+badKeysSaid) {
		t.Errorf("the running Caddy's refusal of a bad key reads %q", said)
	}
	if out, err := run("add", "--user", "ivy", "--phone", "+14155552671"); err != nil {
		t.Fatalf("add: %v\n%s", err, out)
	}
	backup := filepath.Join(dir, "backup.json")
	if out, err := run("export", "--file", backup); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	// The same export, edited: another realm's records.
	elsewhere := filepath.Join(dir, "elsewhere.json")
	if err := os.WriteFile(elsewhere, []byte(strings.ReplaceAll(string(raw), "cli.localhost", "other.localhost")), 0o600); err != nil {
		t.Fatal(err)
	}
	// A new name nobody could sign in as (a right-to-left override).
	const badName = "a name is at most"
	// Running: the admin API refuses them.
	refused("records of realm other.localhost", "import", "--file", elsewhere)
	refused(badName, "invite", "--user", "iv\u202ey")
	s.stop()

	// Stopped, on the store: the same refusals.
	onStore := func(args ...string) []string { return append(args, "--store", storeDir) }
	refused("records of realm other.localhost", onStore("import", "--file", elsewhere, "--realm", "cli.localhost")...)
	refused("the store holds no realm other.localhost", onStore("import", "--file", elsewhere)...)
	refused(badName, onStore("invite", "--realm", "cli.localhost", "--user", "iv\u202ey")...)
	// A signing key no gate can use (3 bytes): refused by the admin API's
	// own check, naming the key, never quoting it, and not written.
	if said := refused(badKeysSaid, onStore("import", "--file", badKeys, "--realm", "cli.localhost")...); !strings.HasPrefix(said, badKeysSaid) {
		t.Errorf("the stopped Caddy's refusal of a bad key reads %q", said)
	}
	if out, err := run(onStore("export", "--realm", "cli.localhost", "--with-keys")...); err != nil || !strings.Contains(out, "keys/secret") || strings.Contains(out, "YWJj") {
		t.Fatalf("the store's keys after a refused import: %v\n%s", err, out)
	}
	for _, cmd := range [][]string{{"revoke", "--user", "ivy"}, {"reset", "--user", "ivy"}, {"users"}, {"export"}, {"sessions", "--user", "ivy"}} {
		refused("the store holds no realm cli.localhots (realms: cli.localhost)", onStore(append(cmd, "--realm", "cli.localhots")...)...)
	}
	if out, err := run(onStore("users", "--json")...); err != nil || !strings.Contains(out, `"user": "ivy"`) {
		t.Fatalf("users of the store's only realm: %v\n%s", err, out)
	}
	if out, err := run(onStore("revoke", "--realm", "CLI.localhost", "--user", "ivy")...); err != nil || !strings.Contains(out, `"revoked": "ivy"`) {
		t.Fatalf("revoke on the store's realm: %v\n%s", err, out)
	}
	// A new store folder holds no realm: an import there says so, and
	// creates nothing, unless asked.
	fresh := filepath.Join(dir, "fresh")
	refused("--new-realm", "import", "--file", backup, "--store", fresh)
	if _, err := os.Stat(fresh); !os.IsNotExist(err) {
		t.Fatalf("a refused import created %s: %v", fresh, err)
	}
	if out, err := run("import", "--file", backup, "--store", fresh, "--new-realm"); err != nil || !strings.Contains(out, `"imported"`) {
		t.Fatalf("import --new-realm into a new store: %v\n%s", err, out)
	}
	if out, err := run("users", "--json", "--store", fresh); err != nil || !strings.Contains(out, `"user": "ivy"`) {
		t.Fatalf("users of the new store: %v\n%s", err, out)
	}
}

// TestAdminCLIFindsTheConfigsAdminEndpoint: with --config and no
// --address, the CLI talks to the admin endpoint the config's global
// options name (Caddy's own reading of it), not to localhost:2019: a
// running Caddy's gate does the work, with its checks and caches, and the
// CLI never goes around it to the store. Before, it found nothing at
// localhost:2019 and reset the user on Redis behind the running gate.
func TestAdminCLIFindsTheConfigsAdminEndpoint(t *testing.T) {
	t.Parallel()
	_, adminAddr, config := adminCaddy(t, t.TempDir(), "", "redis "+redistest.Server(t))
	if out, err := runInProcess(t, "smsgate", "add", "--user", "liv", "--phone", "+14155552671", "--address", adminAddr); err != nil {
		t.Fatalf("add: %v\n%s", err, out)
	}
	out, err := runInProcess(t, "smsgate", "reset", "--user", "liv", "--config", config)
	if err != nil || !strings.Contains(out, `{"invites_ended":"0","reset":"liv"}`) || strings.Contains(out, "working on the store directly") {
		t.Fatalf("reset --config with Caddy running: %v\n%s", err, out)
	}
}
