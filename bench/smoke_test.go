// Package bench holds the benchmark scripts (run.sh, profile.sh, storm.sh,
// burst.sh) and their programs (scale, storm, mint, backend). CI does not
// run them at length, so this test runs each one briefly: a script that no
// longer starts (a config the gate now refuses, a flag that moved) fails
// here, not on the day someone needs its figures.
package bench

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/harness"
)

// TestMain lets every script run at once: they mostly wait (for builds,
// for Caddy to start, for a phase's seconds to pass).
func TestMain(m *testing.M) {
	harness.Parallel(8)
	harness.Main(m)
}

// need finds a program the scripts use: a skip without it, a failure on
// CI (.ci/run installs them).
func need(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed; .ci/run installs it", name)
		}
		t.Skipf("%s is not installed", name)
	}
}

// TestScriptsStart runs every benchmark for a second or two, with a Caddy
// built once, and checks that each reports what it measures. Their
// figures mean nothing at this length; only that they run. It runs with
// SMSGATE_FULL=1, as .ci/run does after the suite: the three that drive
// Caddy with wrk (run, profile, storm) keep both CPUs busy for seconds,
// and the others mostly wait (18 s of the suite's wall time, holding one
// of `go test`'s two slots on a 2-core machine).
func TestScriptsStart(t *testing.T) {
	if os.Getenv("SMSGATE_FULL") == "" {
		t.Skip("builds Caddy and runs each benchmark: SMSGATE_FULL=1 runs it (.ci/run does)")
	}
	for _, tool := range []string{"wrk", "redis-server", "redis-cli", "python3", "taskset", "curl", "nginx"} {
		need(t, tool)
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	// As the scripts build (build.sh): go run keeps the linked Caddy in
	// the build cache, where go build would link it again every time.
	bin := t.TempDir()
	caddy := filepath.Join(bin, "caddy")
	if err := harness.BuildCaddy(root, bin, nil); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		args []string
		env  []string
		want []string
	}{
		{"run", []string{"bench/run.sh"}, []string{"ROUNDS=1", "DURATION=1s"}, []string{"| b/a |", "| e/c |"}},
		{"profile", []string{"bench/profile.sh"}, []string{"DURATION=2s", "WARMUP=0.5", "SECONDS=1"}, []string{"the gate's own code"}},
		{"storm", []string{"bench/storm.sh"}, []string{"RATES=5", "PHASE=1s", "SESSIONS=50", "LEFT=20"},
			[]string{"(limit ip 20 1h): 20 codes sent, 80 refused by the IP limit — exact", "codes in both logs — exact"}},
		{"burst", []string{"bench/burst.sh"}, []string{"RATE=5", "PHASE=2s", "ROUNDS=1"},
			[]string{"default limits: failed sign-ins 0", "high limits: failed sign-ins 0"}},
		// No -dir: its own temporary folder, removed at the end (below).
		{"scale", []string{"go", "run", "./bench/scale", "-caddy", caddy, "-n", "1000", "-logins", "5"}, nil,
			[]string{"verify (check + session) over 5 users"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			tmp := t.TempDir()
			for i := range c.args {
				c.args[i] = strings.ReplaceAll(c.args[i], "{TMP}", tmp)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, c.args[0], c.args[1:]...)
			cmd.Dir = root
			// Caddy's data directory as a user's would be: a script's
			// Caddy keeps its own (a gate's memory of its stores, by
			// address: a later run's new Redis on a port an earlier run's
			// used would look wiped), and writes nothing here.
			home := filepath.Join(tmp, "home-data")
			cmd.Env = append(append(os.Environ(), "CADDY="+caddy, "OUT="+tmp, "TMPDIR="+tmp, "XDG_DATA_HOME="+home), c.env...)
			// Its own process group, so that a run cut short, or this
			// binary killed, leaves no Caddy, Redis or wrk behind.
			out, err := harness.CombinedOutput(cmd)
			if err != nil {
				t.Fatalf("%s: %v\n%s", strings.Join(c.args, " "), err, out)
			}
			if _, err := os.Stat(home); !os.IsNotExist(err) {
				t.Errorf("%s wrote into the user's data directory (%v)", c.name, err)
			}
			// scale's folder was a fixed one in TMPDIR (smsgate-scale),
			// which two runs at once shared; now it is its own, removed.
			if left, _ := filepath.Glob(filepath.Join(tmp, "smsgate-scale*")); len(left) > 0 {
				t.Errorf("%s left %v behind", c.name, left)
			}
			for _, want := range c.want {
				if !strings.Contains(string(out), want) {
					t.Errorf("%s: no %q in its report:\n%s", c.name, want, out)
				}
			}
		})
	}
}
