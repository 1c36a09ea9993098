package siteblock

import (
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2"
)

// dialKey is the address a reverse_proxy or php_fastcgi upstream dials,
// spelt one way, so that two spellings of one app compare equal: the
// port its scheme implies where none is written (as Caddy infers it: 80,
// or 443 for https://), no scheme or trailing slash, a lower-case host,
// {env.*} placeholders resolved, and the loopback names (localhost,
// 127.0.0.1, ::1, none as in :3000) one name; a dynamic one (upstreams),
// lower-case as written. An address with a
// placeholder only a request fills in is kept as written (equal only to
// itself).
func dialKey(up string) string {
	if strings.HasPrefix(up, "dynamic ") {
		return strings.ToLower(up) // upstreams a module finds: equal as written
	}
	if strings.Contains(up, "{") {
		if known := caddy.NewReplacer().ReplaceKnown(up, ""); known != "" && !strings.Contains(known, "{") {
			up = known
		} else {
			return strings.ToLower(up)
		}
	}
	var network, host, port string
	if scheme, _, ok := strings.Cut(up, "://"); ok {
		u, err := url.Parse(strings.TrimSuffix(up, "/"))
		if err != nil {
			return strings.ToLower(up)
		}
		host, port = u.Hostname(), u.Port()
		if port == "" && strings.EqualFold(scheme, "https") {
			port = "443"
		}
	} else {
		var err error
		network, host, port, err = caddy.SplitNetworkAddress(up)
		if err != nil {
			return strings.ToLower(up)
		}
		if caddy.IsUnixNetwork(network) || caddy.IsFdNetwork(network) {
			return network + "/" + host
		}
	}
	if port == "" {
		port = "80"
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if ip := net.ParseIP(host); host == "" || host == "localhost" || ip != nil && (ip.Equal(net.IPv4(127, 0, 0, 1)) || ip.Equal(net.IPv6loopback) || ip.IsUnspecified()) {
		host = "localhost"
	}
	if network != "" && network != "tcp" {
		host = network + "/" + host
	}
	return net.JoinHostPort(host, port)
}

// sameApp reports whether up dials one of app's addresses (dialKeys):
// the same key, or a port range (localhost:3000-3002, as Caddy takes it)
// that meets another of the same host.
func sameApp(app map[string]bool, up string) bool {
	key := dialKey(up)
	if app[key] {
		return true
	}
	host, lo, hi, ok := portRange(key)
	for a := range app {
		if h, l, m, known := portRange(a); ok && known && h == host && lo <= m && l <= hi {
			return true
		}
	}
	return false
}

// portRange is a dialKey's host and its port or range of ports.
func portRange(key string) (host string, lo, hi int, ok bool) {
	host, port, err := net.SplitHostPort(key)
	if err != nil {
		return "", 0, 0, false
	}
	from, to, isRange := strings.Cut(port, "-")
	lo, err = strconv.Atoi(from)
	hi = lo
	if err == nil && isRange {
		hi, err = strconv.Atoi(to)
	}
	return host, lo, hi, err == nil
}
