package caddymodule_test

import (
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestDeletingAProvisionedLineLeavesHerTheDevicesSheAdded: alice, a
// provisioned user, adds her own phone P, which she can only do from a
// session her config phone earned; the admin deletes her `user` line (to
// move her to her own devices). P stays and signs her in: removing every
// device she has would leave her account with none, closed to her, or
// open to whoever knows her password where enrollment is open (a first
// enrollment); the audit tells the admin (added_devices_kept). On Badger
// and Redis, through a real Caddy. (Before, review13 H1: P was removed,
// and her password alone led to the first enrollment.)
func TestDeletingAProvisionedLineLeavesHerTheDevicesSheAdded(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, keep func(*sitetest.Site) string) {
		s := textSite(t, storeLine, []string{"alice"}, "\t\tuser alice +14155552671\n"+limitsOff)
		alice := sitetest.NewClient(t, "alice")
		signIn(t, s, alice)
		p := addPhone(t, s, alice, "+14155559001", "P")
		s = textSite(t, keep(s), []string{"alice"}, limitsOff)
		if got := deviceNames(t, s); got != "P" {
			t.Errorf("alice's devices once her line was deleted: %q (want P)", got)
		}
		if !phoneSignsIn(t, s, p) {
			t.Error("the phone alice added no longer signs her in once her line was deleted")
		}
		if len(s.LogEntries("added_devices_kept")) == 0 {
			t.Error("the admin was not told that the devices stayed")
		}
	})
}
