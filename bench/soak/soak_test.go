package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/harness"
)

// TestSoakRuns: a short soak in the whole topology (an HTTPS front, two
// instances, redis-server with appendonly yes), with Redis stopped and
// started again: it starts, users sign in, browse, change phones and sign
// out, rows of figures come out, nothing fails outside the outage, and no
// signed-in user is sent back to sign in during it. (bench/soak.sh runs it
// for minutes.) Its Caddy is built as the scripts build theirs
// (bench/build.sh), without the race detector: a race binary of its own
// cost more to link than the soak takes to run, and nothing read the
// processes' race reports.
func TestSoakRuns(t *testing.T) {
	redisServer, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("redis-server is not installed; .ci/run installs it")
		}
		t.Skip("redis-server is not installed")
	}
	// Kept in the build cache, where internal/processes' tests find it.
	bin := t.TempDir()
	if err := harness.BuildCaddy(filepath.Join("..", ".."), bin, nil); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	res, err := run(config{caddy: filepath.Join(bin, "caddy"), redis: redisServer,
		duration: 7 * time.Second, every: 2 * time.Second, rate: 20, users: 8, blip: time.Second, blipAt: 2 * time.Second, out: &out})
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) < 2 || res.Rows[0].RSS[0] == 0 || res.Rows[0].Goroutines[0] == 0 || res.Rows[0].RedisKeys == 0 {
		t.Fatalf("the figures are missing: %+v", res.Rows)
	}
	signins := 0
	for _, r := range res.Rows {
		signins += r.SignIns
	}
	if signins < 8 || res.Total != 0 {
		t.Fatalf("%d sign-ins, %d errors outside the outage", signins, res.Total)
	}
	if res.Blip == nil || res.Blip.Browsed == 0 || res.Blip.Bounced != 0 {
		t.Fatalf("during the outage: %+v", res.Blip)
	}
	if !strings.Contains(out.String(), "Redis stopped for 1s") {
		t.Fatal("the outage is not reported")
	}
}
