package caddymodule_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/store"
)

// TestAMintedIndexOfThePreviousReleaseEndsAtARemoval (attack36 F3, the
// upgrade): a store the previous release wrote holds mallory's index of
// the invites she minted at the console as it wrote it (each entry's user,
// ID, expiry and mint time: no session named), with olga's invite open.
// This release reads it: mallory mints ned's invite at the console on it
// (olga's entry kept), and the end of one of her sessions leaves olga's
// (its entry names none); the removal of a phone of hers ends olga's (a
// thief's phone may have minted it: docs/UPGRADING.md), and not ned's,
// minted with her other phone. On Badger and Redis, through a real Caddy.
func TestAMintedIndexOfThePreviousReleaseEndsAtARemoval(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStoreFirst(t, func(t *testing.T, st store.Store, closeStore func() error, storeLine string) {
		const oldToken = "PREVIOUSRELEASEINVITEFOROLGA2345"
		now := time.Now().UTC()
		id := putPreviousInvite(t, st, now, oldToken, "olga", map[string]any{"by": "mallory"})
		putRecord(t, st, endkeys.LatestInvite("localhost", "olga"), map[string]any{"id": id})
		putRecord(t, st, endkeys.MintedInvites("localhost", "mallory"),
			[]map[string]any{{"user": "olga", "id": id, "expires": now.Add(24 * time.Hour), "made": now.Add(-time.Minute)}})
		if err := closeStore(); err != nil {
			t.Fatal(err)
		}

		s := textSite(t, storeLine, []string{"mallory", "olga", "ned"}, "\t\tadmins mallory\n"+limitsOff)
		lost := addUser(t, s, "mallory", "+14155552671")
		kept := addUser(t, s, "mallory", "+4915112345678")
		other, owner := sitetest.NewClient(t, "mallory"), sitetest.NewClient(t, "mallory")
		signInWith(t, s, other, kept, false)
		signInWith(t, s, owner, kept, false)
		nedToken := mintAt(t, s, owner, "ned")

		if st, out := s.Admin("POST", "/smsgate/sessions/end", `{"realm":"localhost","user":"mallory","id":"`+sessionID(t, other.Cookie("smsgate_session"))+`"}`); st != http.StatusOK {
			t.Fatalf("ending mallory's other session: %d %s", st, out)
		}
		if inviteEnded(t, s, "olga", oldToken) {
			t.Errorf("olga's invite, of the previous release's index, ended with a session of mallory's")
		}
		removeAsAdmin(t, s, "mallory", lost)
		if !inviteEnded(t, s, "olga", oldToken) {
			t.Errorf("olga's invite, of the previous release's index, still works after a removal of mallory's phone")
		}
		if inviteEnded(t, s, "ned", nedToken) {
			t.Errorf("ned's invite, minted with the phone kept, ended with the other's removal")
		}
	})
}
