// Package sitetest runs smsgate through a real Caddy for the tests of the
// packages that make the gate (the module, its pages, its
// administration): a site from a Caddyfile, browsers with their own
// cookies, the codes the log provider wrote, and the gates' clock moved
// forward without sleeping. A test that calls Parallel runs beside the
// others with a Caddy process of its own (this test binary run again as
// Caddy: the race detector watches the server there too); the others
// share the binary's one in-process Caddy, one after another.
// The ports are free ones picked at start (configs and URLs say
// {HTTP_PORT}, {HTTPS_PORT} and {ADMIN_PORT}, and WithPorts puts the real
// ones in), so two copies of the repository can run their tests at once.
// It is imported by tests only.
package sitetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"

	_ "github.com/smsgate/caddy-smsgate" // the gate and its modules
	"github.com/smsgate/caddy-smsgate/internal/clock"
	"github.com/smsgate/caddy-smsgate/internal/harness"
)

// DemoHash is argon2id("demo") at the least cost (8 KiB, one pass), for
// basic_auth users in tests (`basic_auth argon2id { … }`): basic_auth
// checks it on every request, and bcrypt's, even at its least cost 4
// (DemoBcrypt), took ~9 ms of CPU a request under -race (pure Go, every
// memory access checked), 2-7% of the packages' CPU, where this one takes
// ~0.2 ms (assembly), for nothing the tests check.
const DemoHash = "$argon2id$v=19$m=8,t=1,p=1$c21zZ2F0ZS1kZW1vLXNhbA$eVrap1GgXoC7RS7ItuX5+dWYtO3Gv46SIMx++r3Mn6Y"

// DemoBcrypt is bcrypt("demo") at the least cost, 4: the examples'
// basic_auth blocks are bcrypt's.
const DemoBcrypt = "$2a$04$QwoidSx.UgUF0gnc767vBOJSbjeCLGEVoNOW33FEdumTZnRApkAR6"

// ExampleHash is the hash the Caddyfile examples give demo (cost 10); tests
// that load an example put DemoBcrypt in its place.
const ExampleHash = "$2a$10$eAjqWKWtJzWGcoO86qpOTe3dpZRbaxiYEpCAQw/3wFkkdxgx/z4cK"

// TrustedProxies is a global option that trusts the tests' own proxy
// (127.0.0.1: the test clients) to say whom it forwards
// (X-Forwarded-For, X-Forwarded-Proto).
const TrustedProxies = `servers {
		trusted_proxies static 127.0.0.1/32
	}`

// The ports of this test binary's Caddy: free ones, picked in Main.
var HTTPPort, HTTPSPort, AdminPort int

// Base is the test site's origin.
var Base string

// root holds every test's store and log. It outlives the tests: Caddy
// closes a config's Badger database only when the next config is loaded,
// and a database whose folder is gone cannot flush on close.
var root string

// self is this test binary.
var self string

// gates is the clock of every gate this binary's Caddy provisions.
var gates clock.Test

// Main runs a test binary's tests (call it from TestMain): free ports,
// Caddy's data and config directories under a temporary folder (never the
// user's), the gates' clock made movable, up to four parallel tests at
// once (they mostly wait, on Caddy and browsers), and every Caddy stopped
// at the end, after the package's own ends (after), with no race wait at
// exit (harness.WithoutExitWait). In a child, it is Caddy instead.
func Main(m *testing.M, after ...func()) {
	harness.WithoutExitWait()
	if admin := os.Getenv(childEnv); admin != "" {
		os.Exit(serve(admin))
	}
	harness.Parallel(4)
	removeTemp := harness.OwnTemp() // the tests' t.TempDir, swept if this binary is killed
	clock.SetDefault(gates.Now)
	HTTPPort, HTTPSPort = harness.FreePort(), harness.FreePort()
	Base = fmt.Sprintf("http://localhost:%d", HTTPPort)
	// The in-process Caddy's admin API: a free port, so that two copies
	// of the tests can run at once.
	AdminPort = harness.FreePort()
	// A config that names no admin endpoint keeps this one, not Caddy's
	// default localhost:2019 (which another program may hold).
	caddy.DefaultAdminListen = fmt.Sprintf("localhost:%d", AdminPort)
	var err error
	// Removed at the end (if this binary is killed, by the next one).
	if root, err = harness.ProcessDir("test"); err != nil {
		panic(err)
	}
	// Caddy's data and config directories and default storage (stores,
	// autosave.json, locks, its CA) are the tests', never the user's; the
	// last two were set before Main ran (TestCaddysStorageIsTheTests).
	for k, dir := range map[string]string{"XDG_DATA_HOME": "data", "XDG_CONFIG_HOME": "config"} {
		if err := os.Setenv(k, filepath.Join(root, dir)); err != nil {
			panic(err)
		}
	}
	caddy.ConfigAutosavePath = filepath.Join(root, "config", "caddy", "autosave.json")
	caddy.DefaultStorage.Path = filepath.Join(root, "data", "caddy")
	// The binary, for the parallel tests' Caddy processes.
	if self, err = os.Executable(); err != nil {
		panic(err)
	}
	code := m.Run()
	for _, f := range after {
		f()
	}
	_ = caddy.Stop()
	if stopProcesses() && code == 0 {
		code = 1
	}
	_ = os.RemoveAll(root)
	removeTemp()
	os.Exit(code)
}

// Advance moves the in-process gates' clock forward by d (a parallel
// test's: its Site's Advance).
func Advance(d time.Duration) {
	inParallel("Advance")
	gates.Advance(d)
}

// StartOfHour moves the in-process gates' clock to just past the next
// full hour, so that a test of an hourly limit stays within one window.
func StartOfHour() {
	inParallel("StartOfHour")
	gates.StartOfHour()
}

// Now is the in-process gates' clock (with Advance's skew), for codes
// made in tests.
func Now() time.Time {
	inParallel("Now")
	return gates.Now()
}

// WithPorts puts the in-process Caddy's ports into a config or URL
// written with the placeholders {HTTP_PORT}, {HTTPS_PORT} and
// {ADMIN_PORT} (a parallel test's: its Site's WithPorts).
func WithPorts(s string) string { return local().withPorts(s) }

// AssertLoadError loads the Caddyfile cfg into t's Caddy (with its ports,
// and {DIR} a fresh folder: a config that loads further than expected
// must not write into the source tree) and expects every want in its
// error (with its ports too).
func AssertLoadError(t *testing.T, cfg string, want ...string) {
	t.Helper()
	assertLoadError(t, "text/caddyfile", cfg, want...)
}

// AssertJSONLoadError is AssertLoadError for a JSON config.
func AssertJSONLoadError(t *testing.T, cfg string, want ...string) {
	t.Helper()
	assertLoadError(t, "application/json", cfg, want...)
}

func assertLoadError(t *testing.T, contentType, cfg string, wants ...string) {
	t.Helper()
	cfg = strings.ReplaceAll(cfg, "{DIR}", filepath.Join(t.TempDir(), "store"))
	at := local()
	if b := bindingOf(t); b != nil {
		at = b.process(t).ports
	} else if err := startLocal(); err != nil {
		t.Fatal(err)
	} else {
		// Tests parallel by t.Parallel alone share it, and each load replaces
		// its admin endpoint, closing a load posted meanwhile (EOF).
		localLoads.Lock()
		defer localLoads.Unlock()
	}
	err := post(at.admin, contentType, at.withPorts(cfg))
	for _, want := range wants {
		if want = at.withPorts(want); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("expected error %q but got %v (nil: the config loaded)", want, err)
		}
	}
}

// Site is a Caddy running one smsgate config, with its log file and the
// folder its Badger store ({DIR}) is in.
type Site struct {
	t       *testing.T
	LogFile string
	Store   string
	// Base is the site's origin.
	Base string
	// p is its Caddy process (nil: the in-process Caddy).
	p *process
	ports
}

// WithPorts puts the site's Caddy's ports into s.
func (s *Site) WithPorts(str string) string { return s.withPorts(str) }

// Advance moves the site's gates' clock forward by d.
func (s *Site) Advance(d time.Duration) {
	s.t.Helper()
	if s.p == nil {
		Advance(d)
		return
	}
	s.p.advance(s.t, d)
}

// StartOfHour moves the site's gates' clock to just past the next full
// hour, so that a test of an hourly limit stays within one window.
func (s *Site) StartOfHour() {
	s.t.Helper()
	now := s.Now()
	s.Advance(now.Truncate(time.Hour).Add(time.Hour + time.Second).Sub(now))
}

// Now is the site's gates' clock (with Advance's skew).
func (s *Site) Now() time.Time {
	if s.p == nil {
		return Now()
	}
	return s.p.now()
}

// Start loads a config whose site block is body (with {DIR} replaced by
// a fresh store folder) behind the standard test globals.
func Start(t *testing.T, body string) *Site {
	t.Helper()
	return StartWith(t, "", body)
}

// StartWith is Start with more global options.
func StartWith(t *testing.T, globals, body string) *Site {
	t.Helper()
	var p *process
	at := local()
	if b := bindingOf(t); b != nil {
		p = b.process(t)
		at = p.ports
	}
	dir, err := os.MkdirTemp(root, "site-")
	if err != nil {
		t.Fatal(err)
	}
	logFile := filepath.Join(dir, "caddy.log")
	cfg := at.withPorts(fmt.Sprintf(`{
	skip_install_trust
	admin localhost:{ADMIN_PORT}
	http_port {HTTP_PORT}
	https_port {HTTPS_PORT}
	grace_period 1ns
	log {
		output file %s
		format json
	}
	%s
}
%s`, logFile, globals, strings.ReplaceAll(body, "{DIR}", filepath.Join(dir, "store"))))
	if p == nil {
		if err := startLocal(); err != nil {
			t.Fatal(err)
		}
		localLive.Store(true)
	}
	logStart(t, body)
	if err := post(at.admin, "text/caddyfile", cfg); err != nil {
		t.Fatalf("loading the config: %v\n%s", err, cfg)
	}
	if p != nil {
		stopsFirst(t, p, dir)
	}
	return &Site{t: t, LogFile: logFile, Store: filepath.Join(dir, "store"), Base: at.base(), p: p, ports: at}
}

// Basic is the quickstart: basic_auth users alice, bob and demo (password
// demo), then smsgate with extra options, then a page that shows who got
// in and which cookies reached it.
func Basic(t *testing.T, options string) *Site {
	return Start(t, fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	basic_auth argon2id {
		alice %[1]s
		bob %[1]s
		demo %[1]s
	}
	smsgate {
		store badger {DIR}
		provider log
		%[2]s
	}
	respond "Hello, {http.auth.user.id}! cookies=[{http.request.header.Cookie}]"
}`, DemoHash, options))
}

// Carol is a site where users name themselves (identity none) and carol
// is provisioned, behind the given global options.
func Carol(t *testing.T, globals string) *Site {
	t.Helper()
	return StartWith(t, globals, `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		user carol +14155552671
		store badger {DIR}
		provider log
	}
	respond "hi"
}`)
}

// LogEntries returns the JSON log entries whose message is one of msgs.
func (s *Site) LogEntries(msgs ...string) []map[string]any {
	s.t.Helper()
	out, err := harness.Log(s.LogFile).Entries(msgs...)
	if err != nil {
		s.t.Fatal(err)
	}
	return out
}

// Sent returns how many messages (codes and notices) the log provider has written.
func (s *Site) Sent() int { return len(s.LogEntries("verification code", "notice")) }

// LastCode returns the code of the last message, checking its number is masked.
func (s *Site) LastCode() string {
	s.t.Helper()
	code, err := harness.Log(s.LogFile).LastCode()
	if err != nil {
		s.t.Fatal(err)
	}
	return code
}

// Notices returns the bodies of the notices (the log provider's "notice":
// messages without a code), with their masked numbers.
func (s *Site) Notices() []string {
	var out []string
	for _, m := range s.LogEntries("notice") {
		out = append(out, m["body"].(string)+" → "+m["to"].(string))
	}
	return out
}

// Admin calls the admin API of t's Caddy, and returns its status and body.
func Admin(t *testing.T, method, path, body string) (int, string) {
	t.Helper()
	if p := bindingOf(t); p != nil && path == "/load" {
		// A config the test loads stops before its folders go (its
		// Badger, in t.TempDir, waited 30 s to close on a removed folder).
		stopsFirst(t, p.process(t))
	}
	return admin(t, portsOf(t), method, path, body)
}

// AssertAdapt adapts the Caddyfile cfg and expects the JSON want
// (indented with tabs), warnings or not.
func AssertAdapt(t *testing.T, cfg, want string) {
	t.Helper()
	got, warnings, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(cfg), nil)
	if err != nil {
		t.Fatalf("adapting: %v", err)
	}
	for _, w := range warnings {
		t.Logf("warning: Caddyfile:%d: %s: %s", w.Line, w.Directive, w.Message)
	}
	var indented bytes.Buffer
	if err := json.Indent(&indented, got, "", "\t"); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Split(indented.String(), "\n"), strings.Split(strings.TrimSpace(want), "\n"); !slices.Equal(got, want) {
		for i := range max(len(got), len(want)) {
			g, w := "", ""
			if i < len(got) {
				g = got[i]
			}
			if i < len(want) {
				w = want[i]
			}
			if g != w {
				t.Fatalf("the adapted JSON differs from line %d:\n got: %s\nwant: %s\n\nall of it:\n%s", i+1, g, w, indented.String())
			}
		}
	}
}
