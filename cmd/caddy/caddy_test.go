package main

// The tests of this package run the build users run: Caddy's standard
// modules and the gate. Its test binary is that Caddy too: with
// SMSGATE_TEST_CADDY=1 set, TestMain becomes `caddy` itself. The tests of
// gates in many Caddy processes (restarts, the CLI, nginx, Redis outages,
// the SMS-pumping attack) are internal/processes': its binary links only
// the modules its sites use, since modules/standard's syntax highlighter
// cost each of their eighty-odd processes more than half its start.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"

	"github.com/smsgate/caddy-smsgate/internal/harness"
)

func TestMain(m *testing.M) {
	if os.Getenv("SMSGATE_TEST_CADDY") == "1" {
		os.Args = append([]string{"caddy"}, strings.Fields(os.Getenv("SMSGATE_TEST_CADDY_ARGS"))...)
		caddycmd.Main()
		return
	}
	// Caddy's data and config directories, for every process these tests
	// start and the commands run in this one: never the user's.
	root, err := harness.ProcessDir("cmd-data") // swept if this binary is killed
	if err != nil {
		panic(err)
	}
	_ = os.Setenv("XDG_DATA_HOME", filepath.Join(root, "data"))
	_ = os.Setenv("XDG_CONFIG_HOME", filepath.Join(root, "config"))
	code := harness.Run(m)
	_ = os.RemoveAll(root)
	harness.Exit(code)
}

// demoHash is the bcrypt hash of "demo" at the lowest cost
// (sitetest.DemoBcrypt: this package links nothing of sitetest, whose
// imports would register the gate in a build without it).
const demoHash = "$2a$04$QwoidSx.UgUF0gnc767vBOJSbjeCLGEVoNOW33FEdumTZnRApkAR6"

// TestTheBuildServesTheGate: this build, run as `caddy run`, serves a
// gate: its sign-in sends a new user to enroll, and its enroll page is
// there, with its form. The other tests of gates in Caddy processes run
// internal/processes' leaner build; this one proves the build users run
// has the gate and serves it.
func TestTheBuildServesTheGate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sock := harness.Listen(t)
	base := fmt.Sprintf("http://localhost:%d", sock.Port)
	config := filepath.Join(dir, "Caddyfile")
	site := fmt.Sprintf("{\n\tadmin off\n\tdefault_bind fd/3\n}\n%s {\n\tbasic_auth {\n\t\tdemo %s\n\t}\n\tsmsgate {\n\t\tstore badger %s\n\t\tprovider log\n\t}\n\trespond \"Hello, {http.auth.user.id}!\"\n}\n",
		base, demoHash, filepath.Join(dir, "store"))
	if err := os.WriteFile(config, []byte(site), 0o600); err != nil {
		t.Fatal(err)
	}
	var files harness.Files
	files.Bind(sock) // fd/3, as default_bind says
	cmd := exec.Command(os.Args[0])
	cmd.Env = harness.ChildEnv("XDG_DATA_HOME="+filepath.Join(dir, "data"), "XDG_CONFIG_HOME="+filepath.Join(dir, "config"),
		"SMSGATE_TEST_CADDY=1", "SMSGATE_TEST_CADDY_ARGS=run --config "+config)
	cmd.ExtraFiles = files
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := harness.Start(cmd, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			t.Error("caddy did not stop within 15s of SIGTERM")
		}
		if harness.RaceIn(stderr.Bytes()) {
			t.Errorf("caddy reported a data race:\n%s", stderr.String())
		}
	})
	c := harness.Browser(nil)
	get := func(path string) (int, string, string) {
		t.Helper()
		// The socket listens from the start: the first request waits in
		// its backlog until Caddy takes it over.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		req.SetBasicAuth("demo", "demo")
		req.Header.Set("Accept", "text/html")
		res, err := c.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v\n%s", path, err, stderr.String())
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, res.Header.Get("Location"), string(body)
	}
	if st, _, body := get("/"); st == http.StatusOK || strings.Contains(body, "Hello") {
		t.Errorf("the app before a sign-in: %d %q", st, body)
	}
	if st, loc, _ := get("/.smsgate/login"); st != http.StatusSeeOther || loc != "/.smsgate/enroll" {
		t.Errorf("sign-in of a new user: %d %s, want 303 to /.smsgate/enroll", st, loc)
	}
	if st, _, body := get("/.smsgate/enroll"); st != http.StatusOK || harness.CSRF.FindStringSubmatch(body) == nil {
		t.Errorf("the enroll page: %d, want 200 with its form\n%s", st, body)
	}
}

// runCaddy runs this test binary as `caddy args...`, with env added to
// its environment.
func runCaddy(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = harness.ChildEnv(append(env, "SMSGATE_TEST_CADDY=1", "SMSGATE_TEST_CADDY_ARGS="+strings.Join(args, " "))...)
	out, err := cmd.CombinedOutput()
	if harness.RaceIn(out) {
		t.Errorf("caddy %s reported a data race:\n%s", strings.Join(args, " "), out)
	}
	return string(out), err
}

// inProcess is held by a command run in this process: `caddy validate`
// sets Caddy's default certificate storage, one global.
var inProcess sync.Mutex

// runInProcess runs `caddy args...` in this process: args[0]'s command as
// Caddy's CLI registered it (its cobra command, whose flags are parsed as
// `caddy` parses them), its output and its error after it, in one string
// as runCaddy gives them. It is for a test of what a command says, not of
// its process: a process of this test binary costs ~0.2 s of CPU before
// it does anything (its packages' initialisation, under -race).
func runInProcess(t *testing.T, args ...string) (string, error) {
	t.Helper()
	command, ok := caddycmd.Commands()[args[0]]
	if !ok || command.CobraFunc == nil {
		t.Fatalf("no command %q with subcommands", args[0])
	}
	inProcess.Lock()
	defer inProcess.Unlock()
	root := &cobra.Command{Use: command.Name, SilenceUsage: true}
	command.CobraFunc(root)
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args[1:])
	err := root.Execute()
	if err != nil {
		fmt.Fprintln(&out, err)
	}
	return out.String(), err
}
