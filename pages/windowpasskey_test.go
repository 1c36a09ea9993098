package pages_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/fakes"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/store"
)

// claimUser adds a passkey in TestARevocationAfterAPasskeysClaimStopsItsAdding.
const claimUser = "pia"

// TestARevocationAfterAPasskeysClaimStopsItsAdding (guard38): a passkey's
// adding claims its credential ID (enrollment.claimCredential) before it
// writes her device list. Her revocation (another instance's sign-out
// everywhere) lands between the claim and the list's write: the list is
// not written, the passkey never listed, and the ceremony is refused (403,
// sign in again). Before, the claim spent the guard and the list's write
// followed on a session already ended: the passkey was listed — usable
// to sign in, by whoever held the stolen session that added it — until
// the re-check after the write undid it (held here at that write: the
// list with the passkey, after her revocation). On Badger and on Redis.
func TestARevocationAfterAPasskeysClaimStopsItsAdding(t *testing.T) {
	sitetest.Parallel(t)
	for _, kind := range []string{"badger", "redis"} {
		t.Run(kind, func(t *testing.T) {
			sitetest.Parallel(t)
			s := startWindowSite(t, kind, "", [2]string{claimUser, "+14155550161"})
			sitetest.AddHold(t, s.dir, sitetest.Hold{Of: "localhost", Op: "write", Key: store.Key("passkey-credential", "localhost", "*")})
			c := s.signIn(t, claimUser)
			c.Get("/.smsgate/devices") // the page the ceremony runs on: its flow
			begin := passkeyCall(c, "register/begin", s.Base, nil)
			if begin.StatusCode != http.StatusOK {
				t.Fatalf("register/begin: %d %s", begin.StatusCode, begin.Text)
			}
			answer, err := fakes.NewAuthenticator("localhost", s.Base).Create([]byte(begin.Text))
			if err != nil {
				t.Fatal(err)
			}
			answered := make(chan *sitetest.Response, 1)
			held := sitetest.Park(t, s.dir, func() *sitetest.Response {
				res := passkeyCall(c, "register/finish", s.Base, answer)
				answered <- res
				return res
			})
			before := s.users()
			s.revoke(t, claimUser, s.Now().Add(time.Second)) // after the claim, before the list's write

			// Held again at her list's write, if it comes: let go, and see.
			sitetest.AddHold(t, s.dir, sitetest.Hold{Of: claimUser, Op: "write", Key: store.Key("device", "localhost", claimUser)})
			_ = os.Remove(filepath.Join(s.dir, "parked"))
			if err := os.WriteFile(filepath.Join(s.dir, "arm"), nil, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(s.dir, "go"), nil, 0o600); err != nil {
				t.Fatal(err)
			}
			var res *sitetest.Response
			for deadline := time.Now().Add(10 * time.Second); res == nil; {
				if time.Now().After(deadline) {
					t.Fatal("her passkey's adding neither answered nor was held at her list's write")
				}
				select {
				case res = <-answered: // no list written
				case <-time.After(2 * time.Millisecond):
					if _, err := os.Stat(filepath.Join(s.dir, "parked")); err != nil {
						continue
					}
					listed := s.users()
					res = held.Release(t)
					t.Errorf("her passkey's adding, her session revoked after its claim: her list written after, %v\nbefore %s\nheld   %s",
						strings.Contains(listed, `"kind":"passkey"`), before, listed)
				}
			}
			if res.StatusCode != http.StatusForbidden || !strings.Contains(res.Text, "step_up") {
				t.Errorf("her passkey's adding, her session revoked after its claim: %d %s, want 403 step_up", res.StatusCode, res.Text)
			}
			if after := s.users(); after != before {
				t.Errorf("her passkey's adding, her session revoked after its claim, changed her:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}
