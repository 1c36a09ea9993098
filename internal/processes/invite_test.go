package processes

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/internal/harness"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/store"
)

// TestAdminCLIRefusesAnInviteNoGateTakes: `caddy smsgate invite` for a
// name no login form of the realm signs in (the realm's two login forms,
// on one store, name alice and carol, and bob under /bob/:
// sitetest.NamedForms; dave is nobody's) is refused with words that name
// him and say why, through the running Caddy's admin API and, Caddy
// stopped, on the store its config names (--config, read once: the
// config's gates say whom they sign in). For bob and carol, whose phones
// the config gives (each at a gate of the realm of his or her own), it is
// refused too, with the console's and the admin API's sentence, a non-zero
// exit, and no invite record written (invite36; before, each was made, its
// link used up enrolling nothing), and for Carol, carol's twin, in words
// naming carol (review36's 1). With a Badger folder alone (--store) no
// config says whom the gates sign in, and dave's invite is made; bob's,
// carol's and Carol's are refused there too, the store's record of whom
// the config's last start gave a number (provisioned-number/) standing
// for the config (review36's 4; before, they were made). Before,
// dave's invite was made everywhere, its link refused at every gate.
// Caddy stopped, a second invite for dave replaces the first, as through
// the running gate (invite24; before: both stood).
func TestAdminCLIRefusesAnInviteNoGateTakes(t *testing.T) {
	t.Parallel()
	s, n := namedForms(t)
	storeDir, adminAddr, config := n.store, n.admin, n.config
	const why = "no gate of realm localhost signs in dave, so its link could never be used"
	invite := func(how, user, want string, refused bool, where ...string) string {
		t.Helper()
		out, err := runInProcess(t, append([]string{"smsgate", "invite", "--realm", "localhost", "--user", user, "--address", adminAddr}, where...)...)
		t.Logf("%s, invite %s: %s", how, user, strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:]))
		if (err != nil) != refused || !strings.Contains(out, want) || strings.Contains(out, "goroutine") {
			t.Errorf("%s: invite for %s: %v, want refused %v saying %q\n%s", how, user, err, refused, want, out)
		}
		return out
	}
	// A phone of bob's, so that the store holds the realm (for --store).
	if out, err := runInProcess(t, "smsgate", "add", "--realm", "localhost", "--user", "bob", "--phone", "+14155550123", "--address", adminAddr); err != nil {
		t.Fatalf("add: %v\n%s", err, out)
	}
	const given = "No invite was made: this user's phone is set in the configuration"
	invite("running", "dave", why, true)
	invite("running", "bob", given, true)
	invite("running", "carol", given, true)
	s.stop()

	invite("stopped, --config", "dave", why, true, "--config", config)
	// Without --address: the config names the admin endpoint, which does
	// not answer, then the store and the gates: read once for all (Caddy
	// logs each read: a process of its own, whose log is its output).
	out, err := runCaddy(t, nil, "smsgate", "invite", "--realm", "localhost", "--user", "dave", "--config", config)
	if err == nil || !strings.Contains(out, why) || strings.Count(out, "using config from file") != 1 {
		t.Errorf("invite for dave through the config's admin address: %v, want refused, the config read once\n%s", err, out)
	}
	invite("stopped, --config", "bob", given, true, "--config", config)
	invite("stopped, --config", "carol", given, true, "--config", config)
	const twin = "No invite for this name: it differs only in capital letters, spacing or invisible characters from carol, whose phone is set in the configuration"
	// Caddy stopped, the admin cannot add the twin's phone (add needs the
	// running Caddy): the words say to start it (resid37; before, "add
	// their phone yourself" alone).
	const stoppedTwin = "If it is someone else, start Caddy and add their phone yourself with caddy smsgate add"
	invite("stopped, --config", "Carol", stoppedTwin, true, "--config", config)
	// --store alone: the users the last start's settle kept numbers for
	// (provisioned-number/) stand for the config's (review36's 4).
	invite("stopped, --store", "bob", given, true, "--store", storeDir)
	invite("stopped, --store", "carol", given, true, "--store", storeDir)
	invite("stopped, --store", "Carol", twin, true, "--store", storeDir)
	invite("stopped, --store", "Carol", stoppedTwin, true, "--store", storeDir)
	// Dave's first invite ends no earlier link: none is said (resid37;
	// before, every invite's answer said earlier links no longer work).
	if out := invite("stopped, --store", "dave", "/.smsgate/invite?token=", false, "--store", storeDir); strings.Contains(out, "earlier invite links") {
		t.Errorf("dave's first invite speaks of earlier links:\n%s", out)
	}
	invite("stopped, --store", "dave", "Note: the user's earlier invite links no longer work.", false, "--store", storeDir) // invite26

	// Caddy stopped, a newer invite replaces the earlier as through the
	// running gate (invite24): the CLI writes the user's newest invite.
	var tokens []string
	for range 2 {
		out, err := runInProcess(t, "smsgate", "invite", "--realm", "localhost", "--user", "dave", "--store", storeDir)
		_, token, ok := strings.Cut(out, "invite?token=")
		if err != nil || !ok {
			t.Fatalf("invite for dave, Caddy stopped: %v\n%s", err, out)
		}
		tokens = append(tokens, strings.Fields(token)[0])
	}
	st, closeDB, err := store.OpenBadger(storeDir)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = closeDB() }()
	_, _, adm := enrollment.New(&enrollment.Core{Store: st, Now: time.Now}, enrollment.Challenges{})
	for i, token := range tokens {
		inv, err := adm.PeekInvite(context.Background(), "localhost", token)
		if err != nil {
			t.Fatalf("the CLI's invite %d: %v", i+1, err)
		}
		var b store.Batch
		replaced := enrollment.ReadReplaced(&b, "localhost", "dave")
		_ = store.Do(context.Background(), st, &b)
		if gone, err := replaced(inv); err != nil || gone != (i == 0) {
			t.Errorf("the CLI's invite %d of 2, Caddy stopped: replaced %v, %v; want only the first", i+1, gone, err)
		}
	}
	for _, user := range []string{"bob", "carol", "Carol"} {
		if raw, err := st.Get(context.Background(), endkeys.LatestInvite("localhost", user)); err == nil {
			t.Errorf("an invite for %s, whose phone the config gives, was written: %s", user, raw)
		}
	}
}

// TestAdminCLIRefusesAPhoneNoGateTakes: `caddy smsgate add` for a name no
// login form of the realm signs in (dave, as in
// TestAdminCLIRefusesAnInviteNoGateTakes) is refused with words that name
// him and say why, through the running Caddy's admin API and, Caddy
// stopped, with its --config (add needs the running gate, but a phone for
// dave is refused as such first: starting Caddy would not help); bob's
// phone is added. With a Badger folder alone (--store) no config says
// whom the gates sign in: it is refused only for needing the running
// Caddy. Before, dave's phone was added, and no gate let him sign in.
func TestAdminCLIRefusesAPhoneNoGateTakes(t *testing.T) {
	t.Parallel()
	s, n := namedForms(t)
	storeDir, adminAddr, config := n.store, n.admin, n.config
	const why, running = "no gate of realm localhost signs in dave, so it could never be used to sign in", "add works through the running Caddy"
	add := func(how, user, want string, refused bool, where ...string) {
		t.Helper()
		out, err := runInProcess(t, append([]string{"smsgate", "add", "--realm", "localhost", "--user", user, "--phone", "+14155550123"}, where...)...)
		t.Logf("%s, add %s: %s", how, user, strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:]))
		if (err != nil) != refused || !strings.Contains(out, want) || strings.Contains(out, "goroutine") {
			t.Errorf("%s: add for %s: %v, want refused %v saying %q\n%s", how, user, err, refused, want, out)
		}
	}
	add("running", "dave", why, true, "--address", adminAddr)
	add("running", "bob", `"id"`, false, "--address", adminAddr)
	if out, err := runInProcess(t, "smsgate", "users", "--realm", "localhost", "--address", adminAddr); err != nil || strings.Contains(out, "dave") || !strings.Contains(out, "bob") {
		t.Errorf("users after dave's phone was refused and bob's added: %v\n%s", err, out)
	}
	s.stop()

	add("stopped, --config", "dave", why, true, "--config", config)
	add("stopped, --config", "bob", running, true, "--config", config)
	add("stopped, --store", "dave", running, true, "--store", storeDir)
}

// namedFormsCaddy is where a Caddy of sitetest.NamedForms is: its store
// (a Badger folder), admin address, site and config file.
type namedFormsCaddy struct{ store, admin, base, config string }

// namedForms starts a Caddy serving sitetest.NamedForms.
func namedForms(t *testing.T) (*server, namedFormsCaddy) {
	dir := t.TempDir()
	storeDir := filepath.Join(dir, "store")
	sock := listen(t)
	adminAddr := fmt.Sprintf("localhost:%d", harness.Port(t))
	base := fmt.Sprintf("http://localhost:%d", sock.Port)
	site := strings.NewReplacer("{HTTP_PORT}", strconv.Itoa(sock.Port), "{DIR}", storeDir).Replace(sitetest.NamedForms(""))
	config, logFile := caddyfile(t, dir, "caddy", "admin "+adminAddr, site)
	return startCaddy(t, sock, config, logFile, base), namedFormsCaddy{storeDir, adminAddr, base, config}
}
