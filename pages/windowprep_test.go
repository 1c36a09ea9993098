package pages_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/store"
)

// straddleUser's removal is held (its sitetest.AddHold) once the removed
// phone's tombstone is written; resetVictim's reset by resetAdmin once
// her revocation is.
const (
	straddleUser            = "rita"
	resetAdmin, resetVictim = "rex", "vera"
)

// TestARevocationAfterTheTombstoneStopsTheRemoval (review36b F2): the
// devices page's removal of a phone writes the phone's tombstone first
// (enrollment.Devices.remove: bury), then the notice it owes, then her
// device list. Her revocation (another instance's sign-out everywhere)
// lands after the tombstone and before the list's write: the removal is
// refused, her phone kept. Before (the tombstone spent the guard, the
// list's write went unguarded), it went through on a session already
// ended: 200, the phone gone. On Badger and on Redis.
func TestARevocationAfterTheTombstoneStopsTheRemoval(t *testing.T) {
	sitetest.Parallel(t)
	for _, kind := range []string{"badger", "redis"} {
		t.Run(kind, func(t *testing.T) {
			sitetest.Parallel(t)
			s := startWindowSite(t, kind, "", [2]string{straddleUser, "+14155550121"}, [2]string{straddleUser, "+14155550122"})
			sitetest.AddHold(t, s.dir, sitetest.Hold{Of: straddleUser, Op: "write", Key: store.Key("removed-device", "localhost", straddleUser)})
			other := s.secondPhone()
			c := s.signIn(t, straddleUser)
			res, before := s.revokedWhileHeld(t, c, "/.smsgate/devices", url.Values{"action": {"remove"}, "device": {other}, "confirm": {"1"}},
				"after her list's write, not before it", straddleUser, s.Now().Add(time.Second))
			if after := s.users(); after != before {
				t.Errorf("her removal, her session revoked after its tombstone and before her list's write: %d %s, and her phone went:\nbefore %s\nafter  %s",
					res.StatusCode, res.Header.Get("Location"), before, after)
			}
		})
	}
}

// TestAnAdminRevokedAfterHerResetsFirstWriteResetsNoOne (review36b F2,
// the console): an admin's reset writes the user's revocation first
// (session.RevokeUser), then removes her phones (Devices.ResetUser). The
// admin's own revocation (another instance's sign-out everywhere, or
// another admin's revoke of her) lands between the two: the reset is
// refused, the user's phones kept. Before (the revocation spent the
// guard), the reset took them on a session already ended: 303 back to
// the console, done. On Badger and on Redis.
func TestAnAdminRevokedAfterHerResetsFirstWriteResetsNoOne(t *testing.T) {
	sitetest.Parallel(t)
	for _, kind := range []string{"badger", "redis"} {
		t.Run(kind, func(t *testing.T) {
			sitetest.Parallel(t)
			s := startWindowSite(t, kind, resetAdmin, [2]string{resetAdmin, "+14155550141"}, [2]string{resetVictim, "+14155550142"})
			sitetest.AddHold(t, s.dir, sitetest.Hold{Of: resetVictim, Op: "write", Key: endkeys.User("localhost", resetVictim)})
			c := s.signIn(t, resetAdmin)
			page := "/.smsgate/admin/user?name=" + resetVictim
			sitetest.Expect(t, c.Get(page), http.StatusOK, "")
			res, before := s.revokedWhileHeld(t, c, page, url.Values{"action": {"reset"}, "confirm": {"1"}},
				"after her phones went, not before", resetAdmin, s.Now().Add(time.Second))
			if after := s.users(); after != before {
				t.Errorf("a reset by an admin revoked after its first write and before the phones' removal: %d %s, and the user's phones went:\nbefore %s\nafter  %s",
					res.StatusCode, res.Header.Get("Location"), before, after)
			}
		})
	}
}
