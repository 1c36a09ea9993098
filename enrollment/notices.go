package enrollment

import (
	"context"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
)

// MaxNotices is how many notices (a device added or removed, a recovery
// code used, a lock, a swapped SIM) a user's phones are sent in an hour.
// Notices go to the user's own phones at the site's cost, outside every
// limit a code meets; without a bound, a session removing and adding an
// app in a loop (a user's own, or a thief's) texted every phone of the user
// twice a loop, as fast as it could post, past the global budgets and the
// pumping guard (which counts codes): SMS pumping to a number it enrolled.
const MaxNotices = 10

// noticeWindow is MaxNotices' window.
const noticeWindow = time.Hour

// TakeNotice reports how many of a notice's phones texts (of n) may go out
// at at: none once the user's phones were sent MaxNotices notices within
// the hour; else as many as the budget of texts to enrolled numbers
// (global_enrolled) has room for, each taking a slot there, as a code to
// one does. limit names the limit that held some or all back (""). A store
// that fails holds them all back.
func (s *Core) TakeNotice(ctx context.Context, realm, user string, n int, at time.Time) (allowed int, limit string) {
	ok, _, err := s.Store.Slide(ctx, store.Key("notices", realm, user), RandomID(), MaxNotices, noticeWindow, at)
	if err != nil || !ok {
		return 0, "notices"
	}
	rate := s.Limits.GlobalEnrolled
	if rate.Count <= 0 || rate.Window <= 0 {
		return n, ""
	}
	for allowed < n { // one key: a batch names a key once
		ok, _, err := s.Store.Slide(ctx, store.Key("limit", "global_enrolled", "all"), RandomID(), rate.Count, rate.Window, at)
		if err != nil || !ok {
			return allowed, "global_enrolled"
		}
		allowed++
	}
	return allowed, ""
}
