package processes

// The tests of this package run its test binary as real Caddy processes:
// with SMSGATE_TEST_CADDY=1 set, TestMain becomes `caddy` itself, with
// the gate and the Caddy modules the tests' sites use (those of
// internal/sitetest/modules.go, and caddypki for `tls internal`), not
// modules/standard: its syntax highlighter's start-up (which fileserver
// brings too, through templates) cost each of these tests' fifty-odd
// processes more than half their start. The build users run, cmd/caddy,
// serves a gate and runs `caddy validate` and `caddy adapt` (runBuild,
// for the Caddyfiles with file_server, try_files or php_fastcgi): linked
// by `go run`, without -race, and kept in the build cache. The
// `caddy smsgate` commands they give those Caddys run mostly in the test's
// own process (runInProcess), the same registered command. Each
// test has its own processes, sockets, stores and data directories, so
// they all run in parallel; what they mostly do is wait (for a process to
// start, for a poll, for Redis), so more of them run at once than there
// are CPUs.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	_ "github.com/caddyserver/caddy/v2/modules/caddypki"
	"github.com/spf13/cobra"

	_ "github.com/smsgate/caddy-smsgate"
	"github.com/smsgate/caddy-smsgate/internal/clock"
	"github.com/smsgate/caddy-smsgate/internal/harness"
	_ "github.com/smsgate/caddy-smsgate/internal/sitetest"
)

func TestMain(m *testing.M) {
	if os.Getenv("SMSGATE_TEST_CADDY") == "1" {
		os.Args = append([]string{"caddy"}, strings.Fields(os.Getenv("SMSGATE_TEST_CADDY_ARGS"))...)
		shortenWaits()
		caddycmd.Main()
		return
	}
	harness.Parallel(8)
	goEnv = os.Environ() // the go command's own settings ($XDG_CONFIG_HOME/go/env)
	// Caddy's data and config directories (the config's autosave.json),
	// for every process these tests start: never the user's (startCaddy
	// gives each config its own).
	root, err := harness.ProcessDir("cmd-data") // swept if this binary is killed
	if err != nil {
		panic(err)
	}
	dataRoot = root
	_ = os.Setenv("XDG_DATA_HOME", filepath.Join(root, "data"))
	_ = os.Setenv("XDG_CONFIG_HOME", filepath.Join(root, "config"))
	code := harness.Run(m)
	_ = os.RemoveAll(root)
	harness.Exit(code)
}

// waitsEnv shortens the product's fixed waits in a test Caddy:
// "NAME DURATION", comma-separated (clock.Shorten's names). Only this test
// binary reads it, run as Caddy; a test that sits through a wait gives it
// to startCaddy (TestAReloadWhoseStoreCannotOpenTouchesNoLiveRequest).
const waitsEnv = "SMSGATE_TEST_CADDY_WAITS"

// shortenWaits shortens, in a test Caddy, the waits waitsEnv names.
func shortenWaits() {
	for _, w := range strings.Split(os.Getenv(waitsEnv), ",") {
		if w == "" {
			continue
		}
		name, length, _ := strings.Cut(w, " ")
		d, err := time.ParseDuration(length)
		if err == nil {
			_, err = clock.Shorten(name, d)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %q: %v\n", waitsEnv, w, err)
			os.Exit(2)
		}
	}
}

// dataRoot is this test binary's folder (Caddy's data and config, the
// build of cmd/caddy); goEnv its environment before TestMain changed it.
var (
	dataRoot string
	goEnv    []string
)

// demoHash is the bcrypt hash of "demo" at the lowest cost: basic_auth
// checks it on every request, and at the examples' cost 10 that was most
// of a test Caddy's CPU time (under -race), for nothing these tests check.
const demoHash = "$2a$04$QwoidSx.UgUF0gnc767vBOJSbjeCLGEVoNOW33FEdumTZnRApkAR6"

// exampleHash is the hash the Caddyfile examples give demo (cost 10).
const exampleHash = "$2a$10$eAjqWKWtJzWGcoO86qpOTe3dpZRbaxiYEpCAQw/3wFkkdxgx/z4cK"

// server is one Caddy process, serving on a socket the test holds.
type server struct {
	t      *testing.T
	sock   *harness.Socket
	config string
	env    []string
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has ended
	base   string
	log    string
}

// listen opens the socket a test Caddy serves on: the test holds it from
// before the config is written until the test ends, across restarts.
func listen(t *testing.T) *harness.Socket { return harness.Listen(t) }

// startCaddy starts Caddy on config (written by caddyfile, whose sites
// bind fd/3: sock) and returns once it answers there. env is added to
// its environment. It is stopped when the test ends.
func startCaddy(t *testing.T, sock *harness.Socket, config, logFile, base string, env ...string) *server {
	t.Helper()
	served := servedIn(logFile) // its .stderr starts again empty
	var files harness.Files
	files.Bind(sock) // fd/3, as caddyfile's default_bind says
	cmd := exec.Command(os.Args[0])
	// Caddy's data directory (where gates remember their stores) and
	// config directory (where `caddy run` saves every config it loads,
	// autosave.json) are the test's, and the same across restarts of this
	// config (TestTheTestsCaddyWritesInTheTest).
	cmd.Env = harness.ChildEnv(append([]string{"XDG_DATA_HOME=" + filepath.Join(filepath.Dir(config), "data"),
		"XDG_CONFIG_HOME=" + filepath.Join(filepath.Dir(config), "config"),
		"SMSGATE_TEST_CADDY=1", "SMSGATE_TEST_CADDY_ARGS=run --config " + config}, env...)...)
	cmd.ExtraFiles = files
	out, err := os.Create(logFile + ".stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	if err := harness.Start(cmd, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, sock: sock, config: config, env: env, cmd: cmd, exited: make(chan struct{}), base: base, log: logFile}
	go func() { _ = cmd.Wait(); close(s.exited) }()
	t.Cleanup(s.stop)
	// The socket was listening all along: this request waits in its
	// backlog until Caddy takes it over and answers (any status will do:
	// a site without /health answers too),
	// unless Caddy ends first.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	answered := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/health", sock.Port), nil)
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			res.Body.Close()
		}
		answered <- err
	}()
	select {
	case err = <-answered:
	case <-s.exited:
		err = fmt.Errorf("caddy ended: %v", cmd.ProcessState)
	}
	// Caddy starts its apps in no set order: its http app may answer before
	// the smsgate app started (its gates open their stores then). Started
	// is once `caddy run` says it serves the config, as `caddy start` waits.
	for err == nil && servedIn(logFile)+servedIn(logFile+".stderr") <= served {
		select {
		case <-s.exited:
			err = fmt.Errorf("caddy ended: %v", cmd.ProcessState)
		case <-ctx.Done():
			err = errors.New("caddy answered, and never said it serves its config")
		case <-time.After(10 * time.Millisecond):
		}
	}
	if err != nil {
		b, _ := os.ReadFile(logFile + ".stderr")
		t.Fatalf("caddy did not start: %v\n%s", err, b)
	}
	return s
}

// servedIn is how many times Caddy said it serves its config in file
// (its log, or its stderr where the config logs elsewhere).
func servedIn(file string) int {
	b, _ := os.ReadFile(file)
	return strings.Count(string(b), `"msg":"serving initial configuration"`)
}

// restart stops Caddy and starts it again on the same socket and config.
func (s *server) restart() *server {
	s.t.Helper()
	s.stop()
	return startCaddy(s.t, s.sock, s.config, s.log, s.base, s.env...)
}

// stop shuts Caddy down gracefully, as a service manager would. A race
// its race detector reported fails the test.
func (s *server) stop() {
	select {
	case <-s.exited:
	default:
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(15 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.exited
			s.t.Error("caddy did not stop within 15s of SIGTERM")
		}
	}
	if out, _ := os.ReadFile(s.log + ".stderr"); harness.RaceIn(out) {
		s.t.Errorf("caddy (%s) reported a data race:\n%s", s.config, out)
	}
}

func (s *server) lastCode() string {
	s.t.Helper()
	code, err := harness.Log(s.log).LastCode()
	if err != nil {
		s.t.Fatal(err)
	}
	return code
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

// runInProcess runs `caddy args...` in this process: args[0]'s command
// as Caddy's CLI registered it (its cobra command, whose flags are parsed
// as `caddy` parses them), its output and notes in one string as runCaddy
// gives them, and its error after them (a process logs it to its stderr,
// where runCaddy finds it). It is for a test of what a command does, not
// of its process: a process of this test binary costs ~0.15 s of CPU
// before it does anything (its packages' initialisation, under -race), and
// these tests ran some eighty. Tests through runCaddy keep the wiring
// proven for each family of commands. The command works in this process's
// environment: a test that gives it one of its own (HOME, XDG_DATA_HOME)
// runs it with runCaddy, as does one that reads Caddy's own log lines
// ("using config from file"), which go to this process's stderr here.
func runInProcess(t *testing.T, args ...string) (string, error) {
	t.Helper()
	command, ok := caddycmd.Commands()[args[0]]
	if !ok || command.CobraFunc == nil {
		t.Fatalf("no command %q with subcommands", args[0])
	}
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

// caddyfile writes a Caddyfile for one test Caddy: globals (default
// "admin off"), a JSON log in dir (for the codes), and the site. Its sites
// serve the socket startCaddy hands Caddy as fd 3 (default_bind), whatever
// port their addresses name (the socket's, for the right Host and links).
// It returns the file and the log's paths.
func caddyfile(t *testing.T, dir, name, globals, site string) (string, string) {
	t.Helper()
	if globals == "" {
		globals = "admin off"
	}
	logFile := filepath.Join(dir, name+".log")
	config := filepath.Join(dir, name+".Caddyfile")
	text := fmt.Sprintf("{\n\t%s\n\tdefault_bind fd/3\n\tlog {\n\t\toutput file %s\n\t\tformat json\n\t}\n}\n%s\n", globals, logFile, site)
	if err := os.WriteFile(config, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return config, logFile
}

type browser struct {
	t    *testing.T
	c    *http.Client
	base string
}

func newBrowser(t *testing.T, base string) *browser {
	return &browser{t: t, base: base, c: harness.Browser(nil)}
}

func (b *browser) do(method, path string, form url.Values) (int, string, string) {
	b.t.Helper()
	req, _ := http.NewRequest(method, b.base+path, strings.NewReader(form.Encode()))
	if form == nil {
		req.Body = http.NoBody
	}
	req.SetBasicAuth("demo", "demo")
	req.Header.Set("Accept", "text/html")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("Location"), string(body)
}

var csrfField = harness.CSRF

func (b *browser) cookieValue(site, name string) string {
	u, _ := url.Parse(site + "/")
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

func (b *browser) setCookie(site, name, value string) {
	u, _ := url.Parse(site + "/")
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}
