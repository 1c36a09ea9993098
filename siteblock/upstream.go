package siteblock

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/caddyserver/caddy/v2"
)

// Machine is what names this machine (its host name, its interfaces'
// addresses), each read once for one check (a config's load), at the
// first address that needs it, not at each.
type Machine struct {
	hostname func() (string, error)
	addrs    func() ([]net.Addr, error)
}

// ThisMachine is this machine's names, read when first needed.
func ThisMachine() *Machine { return newMachine(os.Hostname, net.InterfaceAddrs) }

// newMachine is a Machine whose names hostname and addrs read, each once.
func newMachine(hostname func() (string, error), addrs func() ([]net.Addr, error)) *Machine {
	return &Machine{hostname: sync.OnceValues(hostname), addrs: sync.OnceValues(addrs)}
}

// DialKey is the address a reverse_proxy or php_fastcgi upstream dials,
// spelt one way, so that two spellings of one app compare equal: the
// port its scheme implies where none is written (as Caddy infers it: 80,
// or 443 for https://), no scheme or trailing slash, a lower-case host,
// {env.*} placeholders resolved, and the names of this machine
// (localhost, none as in :3000, thisMachine's addresses) one name,
// tcp4/ and tcp6/ as tcp; a dynamic one
// (dynamicUpstreams): an A lookup as its name and port written as an
// address, another lower-case. An address with a
// placeholder only a request fills in is kept as written (equal only to
// itself).
func (m *Machine) DialKey(up string) string {
	key, _ := m.dial(up)
	return key
}

// dial is DialKey, and the host as written where it is another name of
// this machine than localhost, 127.0.0.1, ::1 or none (127.0.0.2, its
// own address or host name), else "": a refusal says why it is the app.
func (m *Machine) dial(up string) (key, other string) {
	if f := strings.Fields(up); len(f) == 4 && f[0] == "dynamic" && f[1] == "a" {
		up = net.JoinHostPort(f[2], f[3]) // the name's addresses at the port: as the name written so
	} else if strings.HasPrefix(up, "dynamic ") {
		return strings.TrimSuffix(strings.ToLower(up), "."), "" // another source: equal as dynamicUpstreams spells it
	}
	if strings.Contains(up, "{") {
		if known := caddy.NewReplacer().ReplaceKnown(up, ""); known != "" && !strings.Contains(known, "{") {
			up = known
		} else {
			return strings.ToLower(up), ""
		}
	}
	var network, host, port string
	if scheme, _, ok := strings.Cut(up, "://"); ok {
		u, err := url.Parse(strings.TrimSuffix(up, "/"))
		if err != nil {
			return strings.ToLower(up), ""
		}
		host, port = u.Hostname(), u.Port()
		if port == "" && strings.EqualFold(scheme, "https") {
			port = "443"
		}
	} else {
		var err error
		network, host, port, err = caddy.SplitNetworkAddress(up)
		if err != nil {
			return strings.ToLower(up), ""
		}
		if caddy.IsUnixNetwork(network) || caddy.IsFdNetwork(network) {
			return network + "/" + host, ""
		}
	}
	if port == "" {
		port = "80"
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host != "" && host != "localhost" && m.thisMachineName(host) {
		if ip := net.ParseIP(host); ip == nil || !ip.IsUnspecified() && !ip.Equal(net.IPv4(127, 0, 0, 1)) && !ip.Equal(net.IPv6loopback) {
			other = host
		}
		host = ""
	}
	if host == "" {
		host = "localhost"
	}
	if network != "" && network != "tcp" && network != "tcp4" && network != "tcp6" { // tcp4/127.0.0.1:3000 dials 127.0.0.1:3000
		host = network + "/" + host
	}
	return net.JoinHostPort(host, port), other
}

// thisMachineName reports whether host (lower-case) names this machine
// without a lookup: a loopback or own address (thisMachine), a name
// that is loopback by definition (localhost's others: *.localhost, RFC
// 6761; localhost.localdomain, ip6-localhost, ip6-loopback, as
// /etc/hosts spells them), or the machine's own host name (os.Hostname,
// whole or its first label), which its /etc/hosts maps to itself.
func (m *Machine) thisMachineName(host string) bool {
	if ip := net.ParseIP(host); ip != nil {
		return m.thisMachine(ip)
	}
	switch {
	case host == "localhost", strings.HasSuffix(host, ".localhost"),
		host == "localhost.localdomain", host == "ip6-localhost", host == "ip6-loopback":
		return true
	}
	name, err := m.hostname()
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	short, _, _ := strings.Cut(name, ".")
	return err == nil && name != "" && (host == name || host == short)
}

// thisMachine reports whether ip is an address of this machine that an
// app listening on every address (0.0.0.0, [::], as apps and Docker's
// published ports often do) answers on: a loopback one (all of
// 127.0.0.0/8 on Linux, ::1), an unspecified one (dialing 0.0.0.0 dials
// this machine), or one of its interfaces' own (net.InterfaceAddrs,
// 192.168.1.10 beside localhost). Caddy cannot know what the app's socket
// accepts, so they are taken for one host: an error-page service on
// 127.0.0.2 at the app's port, beside an app bound to 127.0.0.1 only,
// is taken for the app (put it on a port of its own).
func (m *Machine) thisMachine(ip net.IP) bool {
	if ip == nil {
		return false
	}
	if ip.IsLoopback() || ip.IsUnspecified() {
		return true
	}
	addrs, _ := m.addrs()
	return slices.ContainsFunc(addrs, func(a net.Addr) bool {
		n, ok := a.(*net.IPNet)
		return ok && n.IP.Equal(ip)
	})
}

// whyTheApp says why up, where it or the app's address (of app, the
// site's upstreams as written, one SameApp matches up with) names this
// machine otherwise than the other does, is taken for the app; "" where
// both are spelt as one (localhost, 127.0.0.1, ::1 or none).
func (m *Machine) whyTheApp(up string, app []string) string {
	const why = ", and an app bound to every address, 0.0.0.0 or [::], answers %s on its port: Caddy cannot tell whether the app's socket does, so an error-page service on this machine needs a port of its own)"
	if _, other := m.dial(up); other != "" {
		return fmt.Sprintf(" (%s is this machine"+why, other, "there")
	}
	for _, a := range app {
		if _, other := m.dial(a); other != "" && m.SameApp(map[string]bool{m.DialKey(a): true}, up) {
			return fmt.Sprintf(" (%s, where the site has the app, is this machine"+why, other, "on each of its addresses")
		}
	}
	return ""
}

// SameApp reports whether up dials one of app's addresses (dialKeys):
// the same key, or a port range (localhost:3000-3002, as Caddy takes it)
// that meets another of the same host.
func (m *Machine) SameApp(app map[string]bool, up string) bool {
	key := m.DialKey(up)
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
		return []string{DynamicA(arg(0, "name", ""), arg(1, "port", ""))}
	case "srv":
		return []string{DynamicSRV(opt["service"], opt["proto"], arg(0, "name", ""))}
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

// dynamicOf spells the upstreams an adapted reverse_proxy's
// dynamic_upstreams module (m, its JSON: a named route's, as Caddy
// adapted it) finds, as dynamicUpstreams spells a dynamic line: an A
// lookup by its name and port (80 where none), an SRV lookup by its
// whole name, each source of a multi; another source as its JSON (equal
// only to the same JSON).
func dynamicOf(m map[string]any) []string {
	str := func(key string) string { s, _ := m[key].(string); return s }
	switch str("source") {
	case "a":
		return []string{DynamicA(str("name"), str("port"))}
	case "srv":
		return []string{DynamicSRV(str("service"), str("proto"), str("name"))}
	case "multi":
		var out []string
		sources, _ := m["sources"].([]any)
		for _, src := range sources {
			if src, ok := src.(map[string]any); ok {
				out = append(out, dynamicOf(src)...)
			}
		}
		return out
	}
	raw, _ := json.Marshal(m)
	return []string{"dynamic " + string(raw)}
}

// DynamicA spells the upstreams an A lookup finds (dynamic a name port;
// 80 where no port is written, as Caddy takes it) as DialKey takes them:
// one spelling for a dynamic line, its adapted JSON (dynamicOf) and the
// running config's module (admin's start check).
func DynamicA(name, port string) string { return "dynamic a " + name + " " + cmp.Or(port, "80") }

// DynamicSRV spells the upstreams an SRV lookup finds, by its whole name
// (_service._proto.name where a service or proto is given), as DynamicA.
func DynamicSRV(service, proto, name string) string {
	if service != "" || proto != "" {
		name = "_" + service + "._" + proto + "." + name
	}
	return "dynamic srv " + name
}
