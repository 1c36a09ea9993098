package caddymodule_test

import (
	"slices"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// wideProxies is admin's warning of a gate's server whose trusted_proxies
// hold a range wider than a LAN's that is not loopback's.
const wideProxies = "this server's trusted_proxies hold a range of more than 256 addresses that is not loopback: every client there is a trusted proxy, and the gates' forward-auth check (/.smsgate/auth) answers one with the request's cookies (the Cookie echo, for nginx's and Traefik's apps), so a page's script in a browser there reads every cookie of a gated app's origin, HttpOnly ones too, and its X-Forwarded-For names any client. If browsers can reach this server from there (Caddy's private_ranges on an intranet), list only your proxies' own addresses (SECURITY.md, \"The check's Cookie echo\")"

// TestATrustedProxiesRangeThatMayHoldBrowsersIsWarnedOf (close11 item 5,
// the Cookie echo): the forward-auth check echoes the request's cookies to
// a client in the server's trusted_proxies, and a range that holds
// browsers too (Caddy's private_ranges on an intranet, review22) makes
// each browser there one: an XSS in a gated app then reads its origin's
// HttpOnly cookies. Before, such a config loaded without a word. Now the
// load warns once per server, naming the ranges of more than 256
// addresses that are not loopback's; a proxy's own address, a LAN-sized
// range (/24) or loopback's are not warned of, and a range written with
// loopback's address is judged by the addresses it holds.
func TestATrustedProxiesRangeThatMayHoldBrowsersIsWarnedOf(t *testing.T) {
	sitetest.Parallel(t)
	for _, tc := range []struct {
		name, ranges string
		wide         []string // nil: no warning
	}{
		{"private_ranges", "private_ranges", []string{"192.168.0.0/16", "172.16.0.0/12", "10.0.0.0/8", "fd00::/8"}},
		{"an intranet", "10.0.0.0/8 192.168.1.7", []string{"10.0.0.0/8"}},
		{"a proxy's address", "192.168.1.7", nil},
		{"a LAN's range, loopback's", "192.168.1.0/24 127.0.0.0/8 ::1 2001:db8::/120", nil},
		{"an IPv6 network", "2001:db8::/64", []string{"2001:db8::/64"}},
		// Written with loopback's address, these hold every IPv4 client,
		// every IPv6 one, half the IPv4 internet (attack38b F2: the
		// written address was asked, not the range).
		{"wide ranges written from loopback's address", "127.0.0.1/0 ::1/0 127.0.0.0/1 127.0.0.1/8", []string{"127.0.0.1/0", "::1/0", "127.0.0.0/1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sitetest.Parallel(t)
			s := sitetest.StartWith(t, "servers {\n\t\ttrusted_proxies static "+tc.ranges+"\n\t\ttrusted_proxies_strict\n\t}", proxiesSite)
			warned := s.LogEntries(wideProxies)
			if tc.wide == nil {
				if len(warned) != 0 {
					t.Fatalf("warned of %s: %v", tc.ranges, warned)
				}
				return
			}
			if len(warned) != 1 {
				t.Fatalf("%d warnings of trusted_proxies %s; want one: %v", len(warned), tc.ranges, warned)
			}
			w := warned[0]
			if w["level"] != "warn" || w["server"] != "srv0" || w["event"] != "trusted_proxies_wide" || !slices.Equal(anyStrings(w["ranges"]), tc.wide) {
				t.Fatalf("the warning: %v; want the ranges %v", w, tc.wide)
			}
		})
	}
}
