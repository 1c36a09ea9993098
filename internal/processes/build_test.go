package processes

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

	"github.com/smsgate/caddy-smsgate/internal/harness"
)

// build is the build users run, cmd/caddy (Caddy's standard modules and
// the gate), as `go run` links it: kept in the build cache, where
// bench/soak's TestSoakRuns finds the same one, so a run of the suite
// links it at most once, without the race detector.
var build struct {
	once sync.Once
	path string
	err  error
}

// buildCaddy returns the path of cmd/caddy's build, linked on first use
// into this test binary's folder.
func buildCaddy(t *testing.T) string {
	t.Helper()
	build.once.Do(func() {
		dir := filepath.Join(dataRoot, "build")
		if build.err = os.MkdirAll(dir, 0o700); build.err != nil {
			return
		}
		if build.err = harness.BuildCaddy(filepath.Join("..", ".."), dir, goEnv); build.err != nil {
			return
		}
		build.path = filepath.Join(dir, "caddy")
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.path
}

// TestTheBuildServesTheGate: the build users run, run as `caddy run`,
// serves a gate: its sign-in sends a new user to enroll, and its enroll
// page is there, with its form. The other tests here run this package's
// test binary as Caddy, which links only the modules their sites use.
func TestTheBuildServesTheGate(t *testing.T) {
	t.Parallel()
	caddy := buildCaddy(t)
	dir := t.TempDir()
	sock := listen(t)
	base := fmt.Sprintf("http://localhost:%d", sock.Port)
	config := filepath.Join(dir, "Caddyfile")
	site := fmt.Sprintf("{\n\tadmin off\n\tdefault_bind fd/3\n}\n%s {\n\tbasic_auth {\n\t\tdemo %s\n\t}\n\tsmsgate {\n\t\tstore badger %s\n\t\tprovider log\n\t}\n\trespond \"Hello, {http.auth.user.id}!\"\n}\n",
		base, demoHash, filepath.Join(dir, "store"))
	if err := os.WriteFile(config, []byte(site), 0o600); err != nil {
		t.Fatal(err)
	}
	var files harness.Files
	files.Bind(sock) // fd/3, as default_bind says
	cmd := exec.Command(caddy, "run", "--config", config)
	cmd.Env = harness.ChildEnv("XDG_DATA_HOME="+filepath.Join(dir, "data"), "XDG_CONFIG_HOME="+filepath.Join(dir, "config"))
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

// runBuild runs the build users run as `caddy args...`, with env added to
// its environment: ~0.04 s of CPU for a `caddy validate` (this package's
// test binary, under -race, took ~0.2 s to start).
func runBuild(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(buildCaddy(t), args...)
	cmd.Env = harness.ChildEnv(env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}
