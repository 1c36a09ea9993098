package caddymodule_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// strangerGates is a config of three login forms on one store, each its
// own smsgate handler: a and b of realm sso.localhost, o of realm
// other.localhost; strangers may begin 3 sign-ins an hour per address and
// 5 per IPv6 /48; more options, more.
func strangerGates(storeLine, more string) string {
	site := func(host, realm string) string {
		return "http://" + host + ":{HTTP_PORT} {\n\tsmsgate {\n\t\tidentity none\n\t\tuser carol +14155552671\n\t\trealm " + realm +
			"\n\t\tcookie_domain " + realm + "\n\t\tlimit stranger_ip 3 1h\n\t\tlimit stranger_net 5 1h\n\t\t" + more + "\n\t\t" + storeLine +
			"\n\t\tprovider log\n\t}\n\trespond \"" + host + "\"\n}\n"
	}
	return site("a.sso.localhost", "sso.localhost") + site("b.sso.localhost", "sso.localhost") + site("o.other.localhost", "other.localhost")
}

// TestTwoGatesOfARealmGiveAnAddressOneAllowance: two gates of one realm
// on one store (a site's two host names, each its own handler) give an
// address one allowance of sign-ins begun by strangers (stranger_ip) and
// an IPv6 /48 one (stranger_net), however its requests are spread over
// them; a gate of another realm on the same store keeps its own. Through
// a real Caddy, on Badger and on Redis; a reload keeps the counts. (Before, each gate counted the
// addresses in memory of its own: an address alternating between a and b
// was admitted 6 times where stranger_ip allows 3, a /48 10 times where
// stranger_net allows 5.)
func TestTwoGatesOfARealmGiveAnAddressOneAllowance(t *testing.T) {
	sitetest.Parallel(t)
	for name, storeLine := range map[string]string{"badger": "store badger {DIR}", "redis": "store redis " + redistest.Server(t)} {
		t.Run(name, func(t *testing.T) {
			s := sitetest.StartWith(t, sitetest.TrustedProxies, strangerGates(storeLine, ""))
			n := 0
			begin := func(host, ip string) bool { // a decoy's login, from ip
				t.Helper()
				n++
				c := sitetest.NewClient(t, "").From(ip)
				at := func(p string) string { return absolute(s, host, p) }
				tok := sitetest.CSRFField.FindStringSubmatch(c.GetURL(at("/.smsgate/login")).Text)[1]
				res := c.PostURL(at("/.smsgate/login"), url.Values{"username": {fmt.Sprint("nobody", n)}, "csrf": {tok}})
				if res.StatusCode != http.StatusSeeOther && res.StatusCode != http.StatusTooManyRequests {
					t.Fatalf("login at %s from %s: %d %s", host, ip, res.StatusCode, res.Text)
				}
				return res.StatusCode == http.StatusSeeOther
			}
			admitted := func(ips func(i int) string, hosts ...string) int {
				got := 0
				for i := range 12 {
					if begin(hosts[i%len(hosts)], ips(i)) {
						got++
					}
				}
				return got
			}
			one := func(int) string { return "198.51.100.7" }
			if got := admitted(one, "a.sso.localhost", "b.sso.localhost"); got != 3 {
				t.Errorf("an address at the realm's two gates: %d sign-ins begun, want stranger_ip's 3", got)
			}
			if got := admitted(one, "o.other.localhost"); got != 3 {
				t.Errorf("the same address at another realm's gate: %d sign-ins begun, want its own 3", got)
			}
			sitetest.StartWith(t, sitetest.TrustedProxies, strings.ReplaceAll(strangerGates(storeLine, ""), "{DIR}", s.Store)) // a reload
			if begin("b.sso.localhost", one(0)) {
				t.Error("a reload of the same config gave the address a new allowance")
			}
			net48 := func(i int) string { return fmt.Sprintf("2001:db8:7:%x::1", i) }
			if got := admitted(net48, "a.sso.localhost", "b.sso.localhost"); got != 5 {
				t.Errorf("a /48's /64s at the realm's two gates: %d sign-ins begun, want stranger_net's 5", got)
			}
			if got := admitted(net48, "o.other.localhost"); got != 5 {
				t.Errorf("the same /48 at another realm's gate: %d sign-ins begun, want its own 5", got)
			}
		})
	}
}

// TestTwoGatesOfARealmShareTheStoresCounts: the counts a realm keeps in
// the store are the realm's, whichever of its gates counts: wrong codes
// from an address (lockout_after 2: one at a, one at b lock the address
// out at both) and a user's sends (limit user 2: a third at either is
// refused). Through a real Caddy, on Badger and on Redis. (Unlike the
// strangers' per-address counts, these were never a gate's: their keys
// name the realm; this test keeps them so.)
func TestTwoGatesOfARealmShareTheStoresCounts(t *testing.T) {
	sitetest.Parallel(t)
	for name, storeLine := range map[string]string{"badger": "store badger {DIR}", "redis": "store redis " + redistest.Server(t)} {
		t.Run(name, func(t *testing.T) {
			s := sitetest.StartWith(t, sitetest.TrustedProxies, strangerGates(storeLine, "lockout_after 2\n\t\tlimit user 2 1h"))
			type flow struct {
				c               *sitetest.Client
				host, tok, code string
			}
			login := func(host, ip string, want int) flow {
				t.Helper()
				f := flow{c: sitetest.NewClient(t, "").From(ip), host: host}
				f.tok = sitetest.CSRFField.FindStringSubmatch(f.c.GetURL(absolute(s, host, "/.smsgate/login")).Text)[1]
				res := f.c.PostURL(absolute(s, host, "/.smsgate/login"), url.Values{"username": {"carol"}, "csrf": {f.tok}})
				if res.StatusCode != want {
					t.Fatalf("carol's login at %s from %s: %d, want %d", host, ip, res.StatusCode, want)
				}
				f.code = s.LastCode()
				return f
			}
			verify := func(f flow, code string) *sitetest.Response {
				return f.c.PostURL(absolute(s, f.host, "/.smsgate/verify"), url.Values{"code": {code}, "csrf": {f.tok}})
			}
			atA := login("a.sso.localhost", "203.0.113.9", http.StatusSeeOther)
			sitetest.Expect(t, verify(atA, sitetest.WrongCode(atA.code)), http.StatusBadRequest, "")
			s.Advance(time.Minute) // past the cooldown
			atB := login("b.sso.localhost", "203.0.113.9", http.StatusSeeOther)
			sitetest.Expect(t, verify(atB, sitetest.WrongCode(atB.code)), http.StatusTooManyRequests, "")
			if res := verify(atA, atA.code); res.StatusCode != http.StatusTooManyRequests {
				t.Errorf("the right code at a after a wrong one at a and one at b: %d, want the address's lock (429)", res.StatusCode)
			}
			s.Advance(time.Minute)
			sent := s.Sent()
			login("a.sso.localhost", "203.0.113.10", http.StatusTooManyRequests) // limit user: 2
			if s.Sent() != sent {
				t.Errorf("a third code for carol at the realm's gates was sent, where limit user allows 2")
			}
		})
	}
}
