package pages_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAFloodOfOneNetworksAddressesKeepsItsLimit: whoever holds one IPv6
// /48 (a tunnel broker gives one away) holds 65,536 /64s, each an address
// of its own to the per-address tallies, which a gate keeps in memory and
// forgets at random once it holds too many. Sign-ins begun from ever-new
// /64s of one /48 filled the tallies, and each forgetting could drop the
// /48's own tally: it started again, and the /48 was admitted anew, as
// often as the flood made the gate forget (through a real Caddy, the
// tallies shrunk to 64 addresses: 35 of 400 admitted where stranger_net
// allows 5; at the real bound, 1,200 of 1,000,000 where it allows 600). The /48 is the unit its holder cannot multiply: its tally
// is never forgotten for its /64s.
func TestAFloodOfOneNetworksAddressesKeepsItsLimit(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.StartWith(t, sitetest.TrustedProxies, `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		user carol +14155552671
		site_origin http://localhost:{HTTP_PORT}
		limit stranger_net 5 1h
		store badger {DIR}
		provider log
	}
	respond "hi"
}`)
	s.Set("tallies", "64")
	c := sitetest.NewClient(t, "")
	c.CSRF("/.smsgate/login")
	admitted := 0
	for i := range 400 {
		res := c.From(fmt.Sprintf("2001:db8:7:%x::1", i)).PostJSON("/.smsgate/passkey/login/begin", s.Base, map[string]string{})
		switch res.StatusCode {
		case http.StatusOK:
			admitted++
		case http.StatusTooManyRequests:
		default:
			t.Fatalf("sign-in %d: %d %s", i, res.StatusCode, res.Text)
		}
	}
	if admitted != 5 {
		t.Fatalf("%d passkey sign-ins admitted from the /64s of one /48, where stranger_net allows 5", admitted)
	}
}
