package siteblock

import (
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2"
)

// DialKey is the address a reverse_proxy or php_fastcgi upstream dials,
// spelt one way, so that two spellings of one app compare equal: the
// port its scheme implies where none is written (as Caddy infers it: 80,
// or 443 for https://), no scheme or trailing slash, a lower-case host,
// {env.*} placeholders resolved, and the loopback names (localhost,
// 127.0.0.1, ::1, none as in :3000) one name, tcp4/ and tcp6/ as tcp; a dynamic one
// (dynamicUpstreams): an A lookup as its name and port written as an
// address, another lower-case. An address with a
// placeholder only a request fills in is kept as written (equal only to
// itself).
func DialKey(up string) string {
	if f := strings.Fields(up); len(f) == 4 && f[0] == "dynamic" && f[1] == "a" {
		up = net.JoinHostPort(f[2], f[3]) // the name's addresses at the port: as the name written so
	} else if strings.HasPrefix(up, "dynamic ") {
		return strings.TrimSuffix(strings.ToLower(up), ".") // another source: equal as dynamicUpstreams spells it
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
	if network != "" && network != "tcp" && network != "tcp4" && network != "tcp6" { // tcp4/127.0.0.1:3000 dials 127.0.0.1:3000
		host = network + "/" + host
	}
	return net.JoinHostPort(host, port)
}

// SameApp reports whether up dials one of app's addresses (dialKeys):
// the same key, or a port range (localhost:3000-3002, as Caddy takes it)
// that meets another of the same host.
func SameApp(app map[string]bool, up string) bool {
	key := DialKey(up)
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

// portRange is a DialKey's host and its port or range of ports.
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

// dynamicUpstreams spells the upstreams a dynamic line's source finds
// (seg begins at the source's name) one way, however it is written: an A
// lookup by its name and port ("dynamic a app 3000", from its arguments
// or its block's name and port lines; 80 where none is written, as Caddy
// takes it), an SRV lookup by its whole name ("dynamic srv
// _http._tcp.app", or service, proto and name lines), and each source of
// a multi; their tuning (refresh, resolvers, timeouts, versions) left
// out: it changes not what the app is. Another source, as written.
func dynamicUpstreams(seg []token) []string {
	source, written, opt := strings.ToLower(seg[0].text), args(seg), map[string]string{}
	for _, l := range inner(seg) {
		if len(l) > 1 {
			opt[l[0].text] = l[1].text
		}
	}
	arg := func(i int, name, or string) string {
		if i < len(written) {
			return written[i]
		}
		if v := opt[name]; v != "" {
			return v
		}
		return or
	}
	switch source {
	case "a":
		return []string{"dynamic a " + arg(0, "name", "") + " " + arg(1, "port", "80")}
	case "srv":
		name := arg(0, "name", "")
		if opt["service"] != "" || opt["proto"] != "" {
			name = "_" + opt["service"] + "._" + opt["proto"] + "." + name
		}
		return []string{"dynamic srv " + name}
	case "multi":
		var out []string
		for _, l := range inner(seg) {
			out = append(out, dynamicUpstreams(l)...)
		}
		return out
	}
	words := []string{"dynamic"}
	for _, t := range seg {
		words = append(words, t.text)
	}
	return []string{strings.Join(words, " ")}
}
