package main

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/smsgate/caddy-smsgate"
	"github.com/smsgate/caddy-smsgate/internal/harness"
)

// TestMain makes this test binary Caddy when SOAK_TEST_CADDY is set: the
// soak runs it as its three Caddy processes.
func TestMain(m *testing.M) {
	if os.Getenv("SOAK_TEST_CADDY") == "1" {
		caddycmd.Main()
		return
	}
	os.Exit(m.Run())
}

// TestSoakRuns: a short soak in the whole topology (an HTTPS front, two
// instances, redis-server with appendonly yes), with Redis stopped and
// started again: it starts, users sign in, browse, change phones and sign
// out, rows of figures come out, nothing fails outside the outage, and no
// signed-in user is sent back to sign in during it. (bench/soak.sh runs it
// for minutes.)
func TestSoakRuns(t *testing.T) {
	redisServer, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("redis-server is not installed; .ci/run installs it")
		}
		t.Skip("redis-server is not installed")
	}
	var out bytes.Buffer
	res, err := run(config{caddy: os.Args[0], caddyEnv: []string{"SOAK_TEST_CADDY=1", harness.RaceEnv()}, redis: redisServer,
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
