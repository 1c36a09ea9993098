package caddymodule_test

import (
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAProvisionedAdminsLostNumberEndsTheInvitesSheMinted (attack36 F2):
// alice is an admin whose phone is the config's; a thief with her phone
// signs in and mints at the console an invite for mal. The operator gives
// alice her new number in the config and reloads, or takes her user line
// out: mal's link is ended by an administrator, and the audit of the
// change names invites_ended 1. Through a real Caddy, on Badger and
// Redis. (Before, her sessions ended, and mal's link enrolled.)
func TestAProvisionedAdminsLostNumberEndsTheInvitesSheMinted(t *testing.T) {
	sitetest.Parallel(t)
	for _, change := range []string{"number", "user line"} {
		t.Run(change, func(t *testing.T) {
			sitetest.Parallel(t)
			sitetest.OnEachStore(t, func(t *testing.T, storeLine string, keep func(*sitetest.Site) string) {
				users := []string{"alice", "bob", "mal"}
				s := textSite(t, storeLine, users, "\t\tadmins alice bob\n\t\tuser alice +14155552671\n")
				thief := sitetest.NewClient(t, "alice")
				signIn(t, s, thief)
				token := mintAt(t, s, thief, "mal")

				extra, event := "\t\tadmins alice bob\n\t\tuser alice +447400123456\n", "provisioned_number_changed"
				if change == "user line" {
					extra, event = "\t\tadmins alice bob\n", "provisioned_user_removed"
				}
				s = textSite(t, keep(s), users, extra)
				if ends := s.LogEntries(event); len(ends) != 1 || ends[0]["invites_ended"] != float64(1) {
					t.Errorf("the audit of the change: %v; want one naming invites_ended 1", ends)
				}
				if !inviteEnded(t, s, "mal", token) {
					t.Errorf("mal's link, minted with alice's lost number, works after the config took it away")
				}
			})
		})
	}
}
