package siteblock

import (
	"net"
	"os"
	"slices"
	"strings"
	"testing"
)

// TestDialKeyEqualsSpellingsOfOneUpstream: the spellings of one app's
// address that Caddy dials the same are one key, and other apps are not.
func TestDialKeyEqualsSpellingsOfOneUpstream(t *testing.T) {
	m := ThisMachine()
	t.Setenv("SMSGATE_TEST_APP", "localhost:3000")
	same := []string{"localhost:3000", "127.0.0.1:3000", "[::1]:3000", ":3000", "LOCALHOST:3000",
		"http://localhost:3000", "http://127.0.0.1:3000/", "https://localhost:3000", "tcp/localhost:3000",
		"{env.SMSGATE_TEST_APP}", "0.0.0.0:3000", "[::]:3000",
		// Every loopback address, and the machine's own (thisMachine).
		"127.0.0.2:3000", "127.1.2.3:3000", "[::ffff:127.0.0.2]:3000", "tcp4/127.0.0.2:3000"}
	// localhost's other names, and the machine's own host name.
	same = append(same, "app.localhost:3000", "localhost.localdomain:3000", "ip6-localhost:3000", "http://ip6-loopback:3000")
	if name, _ := os.Hostname(); name != "" {
		same = append(same, strings.ToUpper(name)+":3000")
	}
	if own := ownAddresses(t); len(own) > 0 {
		same = append(same, net.JoinHostPort(own[0], "3000"), "http://"+net.JoinHostPort(own[len(own)-1], "3000"))
	}
	for _, up := range same {
		if got := m.DialKey(up); got != m.DialKey(same[0]) {
			t.Errorf("DialKey(%q) = %q, want %q", up, got, m.DialKey(same[0]))
		}
	}
	pairs := [][2]string{
		{"app", "app:80"}, {"http://app", "app:80"}, {"https://app", "app:443"}, {"App:8080", "http://app:8080"},
	}
	for _, p := range pairs {
		if m.DialKey(p[0]) != m.DialKey(p[1]) {
			t.Errorf("DialKey(%q) = %q, DialKey(%q) = %q: want equal", p[0], m.DialKey(p[0]), p[1], m.DialKey(p[1]))
		}
	}
	other := []string{"localhost:3001", "127.0.0.2:3001", "203.0.113.7:3000", "errors:3000", "https://localhost", "unix//run/app.sock",
		"{http.request.header.X-Up}", "udp/localhost:3000"}
	for _, up := range other {
		if m.DialKey(up) == m.DialKey(same[0]) {
			t.Errorf("DialKey(%q) = %q, the same as %q's", up, m.DialKey(up), same[0])
		}
	}
	if m.DialKey("{http.request.header.X-Up}") != m.DialKey("{http.request.header.X-Up}") {
		t.Error("a request placeholder is not equal to itself")
	}
}

// ownAddresses are the machine's interface addresses that are not
// loopback ones.
func ownAddresses(t *testing.T) []string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			out = append(out, n.IP.String())
		}
	}
	return out
}

// TestDynamicOfSpellsAdaptedLookupsAsLines: a named route's dynamic
// upstreams, read from its adapted JSON, are spelt as dynamicUpstreams
// spells the same lookup written in the Caddyfile, so the two compare.
func TestDynamicOfSpellsAdaptedLookupsAsLines(t *testing.T) {
	m := ThisMachine()
	for _, tc := range []struct {
		json map[string]any
		want []string
	}{
		{map[string]any{"source": "a", "name": "app", "port": "3000", "refresh": 5e9}, []string{"dynamic a app 3000"}},
		{map[string]any{"source": "a", "name": "app"}, []string{"dynamic a app 80"}},
		{map[string]any{"source": "srv", "name": "_http._tcp.app"}, []string{"dynamic srv _http._tcp.app"}},
		{map[string]any{"source": "srv", "service": "http", "proto": "tcp", "name": "app"}, []string{"dynamic srv _http._tcp.app"}},
		{map[string]any{"source": "multi", "sources": []any{map[string]any{"source": "a", "name": "app", "port": "3000"},
			map[string]any{"source": "srv", "name": "_api._tcp.app"}}}, []string{"dynamic a app 3000", "dynamic srv _api._tcp.app"}},
	} {
		if got := dynamicOf(tc.json); !slices.Equal(got, tc.want) {
			t.Errorf("dynamicOf(%v) = %q, want %q", tc.json, got, tc.want)
		}
	}
	if m.DialKey(dynamicOf(map[string]any{"source": "a", "name": "localhost", "port": "3000"})[0]) != m.DialKey("127.0.0.2:3000") {
		t.Error("an A lookup of localhost is not the app at 127.0.0.2")
	}
}

// TestARefusalSaysWhyAnotherAddressIsTheApp: an upstream taken for the app
// as another name of this machine is named in the refusal, with why and
// what to do; the app's own spellings are not.
func TestARefusalSaysWhyAnotherAddressIsTheApp(t *testing.T) {
	m := ThisMachine()
	for up, want := range map[string]string{
		"127.0.0.2:3000": "127.0.0.2", "http://app.localhost:3000": "app.localhost", "[::ffff:127.0.0.2]:3000": "::ffff:127.0.0.2",
		"localhost:3000": "", "127.0.0.1:3000": "", "[::1]:3000": "", ":3000": "", "0.0.0.0:3000": "", "app:3000": "",
	} {
		got := m.whyTheApp(up, []string{"localhost:3000"})
		if want == "" && got != "" || want != "" && !strings.HasPrefix(got, " ("+want+" is this machine") {
			t.Errorf("whyTheApp(%q) = %q, want it to name %q", up, got, want)
		}
	}
	// Where the app's address in the site is the machine's other one
	// (reverse_proxy 192.168.1.10:3000, and handle_errors { reverse_proxy
	// 127.0.0.1:3000 }), the refusal says so of the app's. Before, it
	// said nothing: only the error route's address was looked at.
	type pair struct{ app, up string }
	cases := map[pair]string{
		{"127.0.0.2:3000", "127.0.0.1:3000"}:             "127.0.0.2, where the site has the app,",
		{"http://app.localhost:3000", ":3000"}:           "app.localhost, where the site has the app,",
		{"127.0.0.2:3000-3002", "localhost:3001"}:        "127.0.0.2, where the site has the app,",
		{"127.0.0.2:3000", "127.0.0.3:3000"}:             "127.0.0.3", // the error route's own first
		{"localhost:3000", "127.0.0.1:3000"}:             "",
		{"127.0.0.2:4000", "127.0.0.1:3000"}:             "", // not the app that matched
		{"[::ffff:127.0.0.2]:3000", "http://[::1]:3000"}: "::ffff:127.0.0.2, where the site has the app,",
	}
	for _, own := range ownAddresses(t) {
		cases[pair{net.JoinHostPort(own, "3000"), "127.0.0.1:3000"}] = own + ", where the site has the app,"
	}
	for c, want := range cases {
		got := m.whyTheApp(c.up, []string{"localhost:5000", c.app})
		if want == "" && got != "" || want != "" && !strings.HasPrefix(got, " ("+want+" is this machine") {
			t.Errorf("the app at %s, the error route's %s: whyTheApp = %q, want it to name %q", c.app, c.up, got, want)
		}
	}
}

// TestAMachinesNamesAreReadOnceACheck: a check (one Machine) reads this
// machine's host name and addresses once, at the first address that
// needs each, however many upstreams it compares; one of loopback
// addresses and names only reads neither. Before, each upstream read
// both again.
func TestAMachinesNamesAreReadOnceACheck(t *testing.T) {
	names, addrs := 0, 0
	m := newMachine(func() (string, error) { names++; return "Box.Example.", nil }, func() ([]net.Addr, error) {
		addrs++
		return []net.Addr{&net.IPNet{IP: net.ParseIP("192.0.2.10"), Mask: net.CIDRMask(24, 32)}}, nil
	})
	app := map[string]bool{m.DialKey("localhost:3000"): true, m.DialKey("127.0.0.1:4000"): true}
	if m.SameApp(app, "[::1]:3000") != true || names+addrs != 0 {
		t.Fatalf("loopback only: read the host name %d times, the addresses %d", names, addrs)
	}
	for range 3 {
		for _, up := range []string{"box:3000", "box.example:4000", "BOX.EXAMPLE.:3000", "192.0.2.10:3000", "http://192.0.2.10:4000"} {
			if !m.SameApp(app, up) {
				t.Errorf("%s is not the app", up)
			}
		}
		for _, up := range []string{"boxes:3000", "192.0.2.11:3000", "example:3000"} {
			if m.SameApp(app, up) {
				t.Errorf("%s is the app", up)
			}
		}
	}
	if names != 1 || addrs != 1 {
		t.Fatalf("read the host name %d times, the addresses %d: want once each", names, addrs)
	}
}
