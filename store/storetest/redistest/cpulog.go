package redistest

import (
	"fmt"
	"os"

	"github.com/smsgate/caddy-smsgate/internal/proccpu"
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

// logCPU adds r's line (see cpuLogEnv) before it is killed.
func (r *Redis) logCPU() {
	path := os.Getenv(cpuLogEnv)
	if path == "" || r.cmd == nil || r.cmd.Process == nil {
		return
	}
	ms, ok := proccpu.Millis(r.cmd.Process.Pid)
	if !ok {
		return
	}
	kind := "server"
	switch {
	case r.sentinel != "":
		kind = "sentinel"
	case r.clustered():
		kind = "cluster"
	}
	_ = proccpu.Append(path, fmt.Sprintf("%d\t%s\t%s", ms, r.t.Name(), kind))
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
