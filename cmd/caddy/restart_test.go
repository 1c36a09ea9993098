package main

// Restart tests run this package's test binary as a real Caddy process:
// with SMSGATE_TEST_CADDY=1 set, TestMain becomes `caddy` itself. Stopping
// and starting it again shows what survives a restart.

import (
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
	"github.com/smsgate/caddy-smsgate/internal/harness"
)

func TestMain(m *testing.M) {
	if os.Getenv("SMSGATE_TEST_CADDY") == "1" {
		os.Args = append([]string{"caddy"}, strings.Fields(os.Getenv("SMSGATE_TEST_CADDY_ARGS"))...)
		caddycmd.Main()
		return
	}
	// Caddy's data directory, for every process these tests start: never
	// the user's (startCaddy gives each config its own).
	data, err := os.MkdirTemp("", "smsgate-cmd-data-")
	if err != nil {
		panic(err)
	}
	_ = os.Setenv("XDG_DATA_HOME", data)
	code := m.Run()
	_ = os.RemoveAll(data)
	os.Exit(code)
}

const demoHash = "$2a$10$eAjqWKWtJzWGcoO86qpOTe3dpZRbaxiYEpCAQw/3wFkkdxgx/z4cK"

// server is one Caddy process.
type server struct {
	t    *testing.T
	cmd  *exec.Cmd
	base string
	log  string
}

// freePort asks the kernel for a port that nothing listens on.
func freePort(*testing.T) int { return harness.FreePort() }

func startCaddy(t *testing.T, config, logFile, base string) *server {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	// Caddy's data directory (where gates remember their stores) is the
	// test's, and the same across restarts of this config.
	cmd.Env = append(os.Environ(), "XDG_DATA_HOME="+filepath.Join(filepath.Dir(config), "data"),
		"SMSGATE_TEST_CADDY=1", "SMSGATE_TEST_CADDY_ARGS=run --config "+config)
	out, _ := os.Create(logFile + ".stderr")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, cmd: cmd, base: base, log: logFile}
	t.Cleanup(s.stop)
	for i := 0; ; i++ {
		res, err := http.Get(base + "/health")
		if err == nil {
			res.Body.Close()
			return s
		}
		if i == 100 {
			b, _ := os.ReadFile(logFile + ".stderr")
			t.Fatalf("caddy did not start: %v\n%s", err, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop shuts Caddy down gracefully, as a service manager would.
func (s *server) stop() {
	if s.cmd.ProcessState != nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
		s.t.Error("caddy did not stop within 15s of SIGTERM")
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

// caddyfile writes a Caddyfile for one test Caddy: globals (default
// "admin off"), a JSON log in dir (for the codes), and the site. It
// returns the file and the log's paths.
func caddyfile(t *testing.T, dir, name, globals, site string) (string, string) {
	t.Helper()
	if globals == "" {
		globals = "admin off"
	}
	logFile := filepath.Join(dir, name+".log")
	config := filepath.Join(dir, name+".Caddyfile")
	text := fmt.Sprintf("{\n\t%s\n\tlog {\n\t\toutput file %s\n\t\tformat json\n\t}\n}\n%s\n", globals, logFile, site)
	if err := os.WriteFile(config, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return config, logFile
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

func TestRestarts(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	base := fmt.Sprintf("http://localhost:%d", port)
	config, logFile := caddyfile(t, dir, "caddy", "admin off", fmt.Sprintf(`http://localhost:%d {
	respond /health 200
	basic_auth {
		demo %s
	}
	smsgate {
		store badger %s
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}
`, port, demoHash, filepath.Join(dir, "store")))

	// Send a code, then restart before typing it in.
	s := startCaddy(t, config, logFile, base)
	b := newBrowser(t, base)
	b.do("GET", "/.smsgate/login", nil)
	_, _, page := b.do("GET", "/.smsgate/enroll", nil)
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no enroll form:\n%s", page)
	}
	csrf := m[1]
	if st, loc, _ := b.do("POST", "/.smsgate/enroll", url.Values{"phone": {"+14155552671"}, "csrf": {csrf}}); st != 303 || loc != "/.smsgate/verify" {
		t.Fatalf("enroll: %d %s", st, loc)
	}
	code := s.lastCode()
	s.stop()

	s = startCaddy(t, config, logFile, base)
	// A first enrollment shows the recovery codes, then goes on.
	if st, _, body := b.do("POST", "/.smsgate/verify", url.Values{"code": {code}, "csrf": {csrf}}); st != 200 || !strings.Contains(body, "recovery codes") {
		t.Fatalf("verify after restart: %d\n%s", st, body)
	}
	if st, _, body := b.do("GET", "/", nil); st != 200 || body != "Hello, demo!" {
		t.Fatalf("app: %d %q", st, body)
	}
	s.stop()

	// The session and the device both survive another restart.
	startCaddy(t, config, logFile, base)
	if st, _, body := b.do("GET", "/", nil); st != 200 || body != "Hello, demo!" {
		t.Fatalf("app after restart: %d %q", st, body)
	}
	fresh := newBrowser(t, base)
	if st, loc, _ := fresh.do("GET", "/.smsgate/login", nil); st != 303 || loc != "/.smsgate/verify" {
		t.Fatalf("new session after restart goes to %d %s, want the verify page", st, loc)
	}
}

func TestLockoutSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	base := fmt.Sprintf("http://localhost:%d", port)
	config, logFile := caddyfile(t, dir, "caddy", "admin off", fmt.Sprintf(`http://localhost:%d {
	respond /health 200
	smsgate {
		identity none
		user carol +14155552671
		lockout_after 3
		lockout 1h
		store badger %s
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}
`, port, filepath.Join(dir, "store")))
	s := startCaddy(t, config, logFile, base)
	b := newBrowser(t, base)
	_, _, page := b.do("GET", "/.smsgate/login", nil)
	csrf := csrfField.FindStringSubmatch(page)[1]
	if st, _, _ := b.do("POST", "/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {csrf}}); st != 303 {
		t.Fatalf("login: %d", st)
	}
	code := s.lastCode()
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	var st int
	for range 3 {
		st, _, _ = b.do("POST", "/.smsgate/verify", url.Values{"code": {wrong}, "csrf": {csrf}})
	}
	if st != http.StatusTooManyRequests {
		t.Fatalf("third wrong code: %d, want 429", st)
	}
	s.stop()

	startCaddy(t, config, logFile, base)
	st, _, body := b.do("POST", "/.smsgate/verify", url.Values{"code": {code}, "csrf": {csrf}})
	if st != http.StatusTooManyRequests || !strings.Contains(body, "locked") {
		t.Fatalf("the right code after a restart during a lockout: %d\n%s", st, body)
	}
}

// TestAdminReset: a user who lost their phone is reset by the admin with
// `caddy smsgate reset`; their live session ends and they enroll again.
func TestAdminReset(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	base := fmt.Sprintf("http://localhost:%d", port)
	storeDir := filepath.Join(dir, "store")
	config, logFile := caddyfile(t, dir, "caddy", "admin off", fmt.Sprintf(`http://localhost:%d {
	respond /health 200
	basic_auth {
		demo %s
	}
	smsgate {
		store badger %s
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}
`, port, demoHash, storeDir))
	s := startCaddy(t, config, logFile, base)
	b := newBrowser(t, base)
	b.do("GET", "/.smsgate/login", nil)
	_, _, page := b.do("GET", "/.smsgate/enroll", nil)
	csrf := csrfField.FindStringSubmatch(page)[1]
	b.do("POST", "/.smsgate/enroll", url.Values{"phone": {"+14155552671"}, "csrf": {csrf}})
	b.do("POST", "/.smsgate/verify", url.Values{"code": {s.lastCode()}, "csrf": {csrf}})
	if st, _, _ := b.do("GET", "/", nil); st != 200 {
		t.Fatalf("signed in: %d", st)
	}

	// With Caddy running, the store is locked: a clear refusal.
	out, err := runCaddy("smsgate", "reset", "--realm", "localhost", "--user", "demo", "--store", storeDir)
	if err == nil || !strings.Contains(out, "is Caddy running") {
		t.Fatalf("reset while Caddy runs: %v\n%s", err, out)
	}
	s.stop()
	out, err = runCaddy("smsgate", "reset", "--realm", "localhost", "--user", "demo", "--store", storeDir)
	if err != nil || !strings.Contains(out, `"reset": "demo"`) {
		t.Fatalf("reset: %v\n%s", err, out)
	}

	startCaddy(t, config, logFile, base)
	if st, loc, _ := b.do("GET", "/", nil); st != http.StatusFound || loc != "/.smsgate/login?rd=%2F" {
		t.Fatalf("the session after a reset: %d %s", st, loc)
	}
	if st, loc, _ := b.do("GET", "/.smsgate/login", nil); st != http.StatusSeeOther || loc != "/.smsgate/enroll" {
		t.Fatalf("after a reset the user enrolls again: %d %s", st, loc)
	}
}

// runCaddy runs this test binary as `caddy args...`.
func runCaddy(args ...string) (string, error) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "SMSGATE_TEST_CADDY=1", "SMSGATE_TEST_CADDY_ARGS="+strings.Join(args, " "))
	out, err := cmd.CombinedOutput()
	return string(out), err
}
