package sitetest

import (
	"crypto/sha256"
	"fmt"
	"os"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/proccpu"
)

// cpuLogEnv names a file where each parallel test's Caddy process adds a
// line when the test gives it back: the CPU it spent for that test (ms,
// its part of starting and stopping the test's sites too), a tab, the
// test's name. A child serves one test at a time, so this is the test's
// server side, which neither the parent's -cpuprofile nor a child's
// profile (profileEnv) tells by test: `sort -rn` finds the dear ones
// (TestACallWhereNoneIsOfferedIsAnsweredInWords spent 1.3 s of its
// Caddy's CPU, where the median test spends 0.14 s: its basic_auth hash
// was bcrypt's at cost 10, checked on every request). Linux only (it
// reads /proc); nothing is written elsewhere.
const cpuLogEnv = "SMSGATE_SITETEST_CPULOG"

// logCPU adds t's line for p (see cpuLogEnv), from ms, p's CPU when t
// took it.
func logCPU(t *testing.T, p *process, ms int64) {
	path := os.Getenv(cpuLogEnv)
	if path == "" {
		return
	}
	now, _ := proccpu.Millis(p.cmd.Process.Pid)
	if err := proccpu.Append(path, fmt.Sprintf("%d\t%s", now-ms, t.Name())); err != nil {
		t.Logf("sitetest: %s: %v", cpuLogEnv, err)
	}
}

// startLogEnv names a file where every site a test starts (Start,
// StartWith) adds a line: the test's name, a tab, the first 12 hex digits
// of a hash of its site block with {DIR} as written (its ports, log and
// store folders aside). `cut -f1 | sort | uniq -c` counts a test's
// starts, `sort | uniq -d` finds a Caddyfile a test starts again
// (caddymodule, at 803c5c8: 594 starts of 471 site blocks, those started
// again mostly the tests' own reloads). Nothing is written elsewhere.
const startLogEnv = "SMSGATE_SITETEST_STARTLOG"

// logStart adds t's line for a site of body (see startLogEnv).
func logStart(t *testing.T, body string) {
	path := os.Getenv(startLogEnv)
	if path == "" {
		return
	}
	sum := sha256.Sum256([]byte(body))
	if err := proccpu.Append(path, fmt.Sprintf("%s\t%x", t.Name(), sum[:6])); err != nil {
		t.Logf("sitetest: %s: %v", startLogEnv, err)
	}
}
