package redistest

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
)

// cpuLogEnv names a file where each redis-server a test started adds a
// line when it is stopped: the CPU it spent (ms, user and system), a tab,
// the test's name, a tab, the server's kind ("server", "cluster",
// "sentinel"). The servers are the test binary's children, so
// /usr/bin/time counts them in the package's CPU but no profile shows
// them: in enrollment at 528b9b6 they were 15.2 s of its 63.3 s (24%),
// answering the tests' commands (an idle server spends under 10 ms in 5 s),
// and `sort -rn` tells which tests' servers worked most. Linux only (it
// reads /proc); nothing is written elsewhere.
const cpuLogEnv = "SMSGATE_REDISTEST_CPULOG"

var cpuLog sync.Mutex

// cpuMillis is the CPU the process pid has spent (user and system), in
// ms, -1 where /proc cannot tell.
func cpuMillis(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	// The fields after the command's name (which may hold spaces), in
	// brackets: utime and stime are the 14th and 15th of the line, in
	// clock ticks (10 ms).
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return -1
	}
	user, _ := strconv.ParseInt(f[11], 10, 64)
	system, _ := strconv.ParseInt(f[12], 10, 64)
	return (user + system) * 10
}

// logCPU adds r's line (see cpuLogEnv) before it is killed.
func (r *Redis) logCPU() {
	path := os.Getenv(cpuLogEnv)
	if path == "" || r.cmd == nil || r.cmd.Process == nil {
		return
	}
	ms := cpuMillis(r.cmd.Process.Pid)
	if ms < 0 {
		return
	}
	kind := "server"
	switch {
	case r.sentinel != "":
		kind = "sentinel"
	case r.clustered():
		kind = "cluster"
	}
	cpuLog.Lock()
	defer cpuLog.Unlock()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "%d\t%s\t%s\n", ms, r.t.Name(), kind)
}

// clustered says whether r is a Cluster's node.
func (r *Redis) clustered() bool {
	for _, a := range r.args {
		if a == "--cluster-enabled" {
			return true
		}
	}
	return false
}
