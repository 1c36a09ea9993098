package sitetest

import (
	"crypto/sha256"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
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

var cpuLog sync.Mutex

// cpuTicks is the CPU the process pid has spent (user and system), in
// clock ticks (10 ms), 0 where /proc cannot tell.
func cpuTicks(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The fields after the command's name (which may hold spaces), in
	// brackets: utime and stime are the 14th and 15th of the line.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	user, _ := strconv.ParseInt(f[11], 10, 64)
	system, _ := strconv.ParseInt(f[12], 10, 64)
	return user + system
}

// logCPU adds t's line for p (see cpuLogEnv), from ticks, p's CPU when t
// took it.
func logCPU(t *testing.T, p *process, ticks int64) {
	path := os.Getenv(cpuLogEnv)
	if path == "" {
		return
	}
	spent := cpuTicks(p.cmd.Process.Pid) - ticks
	cpuLog.Lock()
	defer cpuLog.Unlock()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Logf("sitetest: %s: %v", cpuLogEnv, err)
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "%d\t%s\n", spent*10, t.Name())
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
	cpuLog.Lock()
	defer cpuLog.Unlock()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Logf("sitetest: %s: %v", startLogEnv, err)
		return
	}
	defer f.Close()
	sum := sha256.Sum256([]byte(body))
	fmt.Fprintf(f, "%s\t%x\n", t.Name(), sum[:6])
}
