package pages_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// mintingAdmin's console invite for mintedFor is held (its
// sitetest.AddHold) once its entry in her index of invites minted is
// written.
const mintingAdmin, mintedFor = "mona", "milo"

// TestARevocationAfterTheMintedIndexStopsTheInvite (attack37, noticed):
// the console's invite writes the admin's index entry first (a
// preparation: store.Preparing), then the invite and the record naming it
// its user's newest. The admin's revocation (another instance's sign-out
// everywhere) lands after the index entry: no invite is written (303 to
// sign in, none audited), so milo's earlier link (the admin API's) still
// works. Before (the entry
// spent the guard), the invite was written on a session already ended,
// not shown (its re-check after the write), and it replaced milo's
// earlier link: dead. On Badger and on Redis.
func TestARevocationAfterTheMintedIndexStopsTheInvite(t *testing.T) {
	sitetest.Parallel(t)
	for _, kind := range []string{"badger", "redis"} {
		t.Run(kind, func(t *testing.T) {
			sitetest.Parallel(t)
			s := startWindowSite(t, kind, mintingAdmin, [2]string{mintingAdmin, "+14155550181"}, [2]string{mintedFor, "+14155550182"})
			st, body := s.Admin("POST", "/smsgate/invites", `{"realm":"localhost","user":"`+mintedFor+`","ttl":"1h"}`)
			if st != http.StatusOK {
				t.Fatalf("the admin API's invite: %d %s", st, body)
			}
			var earlier struct{ Path string }
			_ = json.Unmarshal([]byte(body), &earlier)
			works := func() bool {
				return sitetest.NewClient(t, "").Get(earlier.Path).StatusCode == http.StatusOK
			}
			if !works() {
				t.Fatalf("the admin API's link does not work: %s", earlier.Path)
			}
			sitetest.AddHold(t, s.dir, sitetest.Hold{Of: mintingAdmin, Op: "write", Key: endkeys.MintedInvites("localhost", mintingAdmin)})
			c := s.signIn(t, mintingAdmin)
			page := "/.smsgate/admin/user?name=" + mintedFor
			sitetest.Expect(t, c.Get(page), http.StatusOK, "")
			held := s.hold(t, c, page, url.Values{"action": {"invite"}})
			s.revoke(t, mintingAdmin, s.Now().Add(time.Second))
			res := held.Release(t)
			if res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), "/.smsgate/login") {
				t.Errorf("the mint on a session revoked meanwhile: %d %s; want 303 to sign in", res.StatusCode, res.Header.Get("Location"))
			}
			for _, minted := range s.LogEntries("admin_invites") {
				if minted["by"] == mintingAdmin {
					t.Errorf("a revoked admin minted an invite: %v", minted)
				}
			}
			if !works() {
				t.Errorf("a mint by an admin revoked after its index entry and before its invite: %d %s, and %s's earlier link was replaced", res.StatusCode, res.Header.Get("Location"), mintedFor)
			}
		})
	}
}
