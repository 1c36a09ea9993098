package processes

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/harness"
)

// `caddy validate` of a sound config opens no store (issue #23: "Validate
// checks everything it can before any store is opened"): run beside the
// Caddy that serves the same Caddyfile, it passes (on main it failed on
// Badger's folder lock after ~2 s, so `caddy validate && caddy reload` of
// a running site failed); on a fresh path it creates nothing; on Redis it
// dials nobody. A real load still fails at load time, naming the store: a
// second Caddy on the running one's folder, and a Redis that refuses.
func TestValidateOpensNoStore(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	site := func(storeLine string) string {
		return "http://localhost:8080 {\n\tbasic_auth {\n\t\talice " + demoHash + "\n\t}\n\tsmsgate {\n\t\t" + storeLine + "\n\t\tprovider log\n\t}\n\trespond \"Hello\"\n}\n"
	}
	running := filepath.Join(dir, "running")
	sock := listen(t)
	adminAddr := fmt.Sprintf("localhost:%d", harness.Port(t))
	config, logFile := caddyfile(t, dir, "running", "admin "+adminAddr, site("store badger "+running))
	startCaddy(t, sock, config, logFile, fmt.Sprintf("http://localhost:%d", sock.Port))
	if out, err := runCaddy(t, nil, "validate", "--config", config); err != nil {
		t.Errorf("caddy validate of the running Caddy's config: %v\n%s", err, out)
	}
	// And the reload that follows shares the database the running config
	// holds (it opens as the new config starts, the old one still running).
	if out, err := runCaddy(t, nil, "reload", "--config", config, "--address", adminAddr, "--force"); err != nil {
		t.Errorf("caddy reload after validate: %v\n%s", err, out)
	}

	fresh := filepath.Join(dir, "fresh")
	freshConfig, _ := caddyfile(t, dir, "fresh", "", site("store badger "+fresh))
	if out, err := runCaddy(t, nil, "validate", "--config", freshConfig); err != nil {
		t.Errorf("caddy validate on a fresh store path: %v\n%s", err, out)
	}
	if _, err := os.Stat(fresh); !os.IsNotExist(err) {
		t.Errorf("caddy validate made the store's folder %s (%v)", fresh, err)
	}

	redis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var dialled atomic.Int32
	go func() {
		for {
			c, err := redis.Accept()
			if err != nil {
				return
			}
			dialled.Add(1)
			_ = c.Close()
		}
	}()
	redisConfig, _ := caddyfile(t, dir, "redis", "", site("store redis "+redis.Addr().String()))
	if out, err := runCaddy(t, nil, "validate", "--config", redisConfig); err != nil {
		t.Errorf("caddy validate on a Redis store: %v\n%s", err, out)
	}
	if n := dialled.Load(); n != 0 {
		t.Errorf("caddy validate dialled the Redis store %d times", n)
	}
	// A load still fails at load time, naming the store: a second Caddy
	// on the running one's folder, and a Redis address that refuses.
	// A folder that may not be written is refused before it opens.
	refusing := fmt.Sprintf("127.0.0.1:%d", harness.Port(t))
	frozen := filepath.Join(dir, "frozen")
	if err := os.Mkdir(frozen, 0o700); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, storeLine, want string }{
		{"second", "store badger " + running, "opening badger store at " + running},
		{"refused", "store redis " + refusing, "redis store at [" + refusing + "]"},
	}
	if out, err := exec.Command("chattr", "+i", frozen).CombinedOutput(); err == nil {
		t.Cleanup(func() { _ = exec.Command("chattr", "-i", frozen).Run() })
		cases = append(cases, struct{ name, storeLine, want string }{"frozen", "store badger " + frozen, "badger store path " + frozen})
	} else {
		t.Logf("no immutable folder here (needs root and a file system with the flag): %v %s", err, out)
	}
	for _, tc := range cases {
		cfg := filepath.Join(dir, tc.name+".Caddyfile")
		text := fmt.Sprintf("{\n\tadmin off\n}\n%s", strings.Replace(site(tc.storeLine), "localhost:8080", fmt.Sprintf("127.0.0.1:%d", harness.Port(t)), 1))
		if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := runCaddy(t, nil, "run", "--config", cfg)
		if err == nil || !strings.Contains(out, tc.want) {
			t.Errorf("caddy run on %s: %v, want %q in:\n%s", tc.storeLine, err, tc.want, out)
		}
	}
}
