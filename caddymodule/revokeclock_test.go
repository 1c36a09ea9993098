package caddymodule_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestARevokeAndAResetEndWhatWasIssuedBeforeThemWhateverTheClocks
// (attack28 F2), through a real Caddy: alice signs in, and an invite is
// minted for bob, at a gate whose clock is 20 s ahead (within the 30 s
// the tokens tolerate); 10 s later the admin revokes alice and resets bob
// from an instance on time (here the same gate, its clock put back to
// time). Before, the thief's copy of alice's session went on (200), her
// list still showed it, and bob's link still worked (both signed or
// minted "after" the revocation by the clocks). Now all end. On Badger and
// Redis.
func TestARevokeAndAResetEndWhatWasIssuedBeforeThemWhateverTheClocks(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := sitetest.Start(t, fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	basic_auth argon2id {
		alice %[1]s
		bob %[1]s
	}
	smsgate {
		%[2]s
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`, sitetest.DemoHash, storeLine))
		s.Advance(20 * time.Second) // the gate ahead
		alice := sitetest.NewClient(t, "alice")
		sitetest.Enroll(t, s, alice, "+14155552670")
		thief := sitetest.NewClient(t, "alice")
		thief.SetCookie("smsgate_session", alice.Cookie("smsgate_session"))
		sitetest.Expect(t, thief.Get("/"), http.StatusOK, "")
		st, body := s.Admin("POST", "/smsgate/invites", `{"realm":"localhost","user":"bob","ttl":"1h"}`)
		if st != http.StatusOK {
			t.Fatalf("invite: %d %s", st, body)
		}
		var inv struct{ Path string }
		_ = json.Unmarshal([]byte(body), &inv)

		s.Advance(-10 * time.Second) // 10 s later, on time
		if st, out := s.Admin("POST", "/smsgate/revoke", `{"realm":"localhost","user":"alice"}`); st != http.StatusOK {
			t.Fatalf("revoke: %d %s", st, out)
		}
		if st, out := s.Admin("POST", "/smsgate/reset", `{"realm":"localhost","user":"bob"}`); st != http.StatusOK {
			t.Fatalf("reset: %d %s", st, out)
		}
		if res := thief.Get("/"); res.StatusCode != http.StatusFound {
			t.Errorf("alice's session, signed 10 s before the revoke at a gate 20 s ahead: %d %q after it", res.StatusCode, res.Text)
		}
		if _, out := s.Admin("GET", "/smsgate/sessions?realm=localhost&user=alice", ""); strings.TrimSpace(out) != "[]" {
			t.Errorf("alice's list after the revoke: %s", out)
		}
		if res := sitetest.NewClient(t, "bob").Get(inv.Path); res.StatusCode != http.StatusBadRequest {
			t.Errorf("bob's invite, minted 10 s before the reset at a gate 20 s ahead: %d after it", res.StatusCode)
		}
	})
}
