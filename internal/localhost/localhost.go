// Package localhost tells whether a host name names this machine.
package localhost

import (
	"net"
	"strings"
)

// Is reports whether host (without port) names this machine: localhost, a
// *.localhost name, or a loopback address.
func Is(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}
