package harness

import (
	"fmt"
	"net"
)

// lock reserves port across processes: it binds an abstract unix socket
// named for the port, which no other process can bind while this one
// holds it, and which the kernel drops when the process ends, however it
// ends (no file left behind, no stale lock). Abstract sockets belong to
// the network namespace, as the ports do.
func lock(port int) (release func(), ok bool) { return lockName(fmt.Sprintf("port-%d", port)) }

// lockName is lock for any name (a ProcessDir's).
func lockName(name string) (release func(), ok bool) {
	l, err := net.Listen("unix", "@smsgate-test-"+name)
	if err != nil {
		return nil, false
	}
	return func() { l.Close() }, true
}
