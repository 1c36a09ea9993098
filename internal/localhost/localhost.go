// Package localhost tells whether a host name names this machine.
package localhost

import (
	"net/netip"
	"strings"
)

// Is reports whether host (without port) names this machine: localhost, a
// *.localhost name, or a loopback address. It allocates nothing (the gate
// asks it of requests to the app: pages' secure).
func Is(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	host = strings.Trim(host, "[]")
	if strings.ContainsFunc(host, notInAddress) {
		return false // a name (ParseAddr's error would allocate)
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// notInAddress reports whether c is in no IPv4 or IPv6 address (a zone
// too is refused, as net.ParseIP did).
func notInAddress(c rune) bool {
	return !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || c == '.' || c == ':')
}
