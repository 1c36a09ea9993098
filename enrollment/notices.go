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

// Notices is TakeNotice's answer: how many of a notice's phones may be
// texted, and why not all.
type Notices struct {
	// Allowed is how many phones may be texted.
	Allowed int
	// Limit names the limit that held some or all back ("": none).
	Limit string
	// Last is set on the notice that takes the hour's last slot: the
	// user's phones hear of no further change for a while, so it says so
	// (an intruder who spends the hour's notices on changes the user is
	// told of must not make the next ones, a phone of theirs added, look
	// like the end of it).
	Last bool
}

// TakeNotice reports how many of a notice's phones texts (of n) may go out
// at at: none once the user's phones were sent MaxNotices notices within
// the hour; else as many as the budget of texts to enrolled numbers
// (global_enrolled, the realm's) has room for, each taking a slot there,
// as a code to one does. A store that fails holds them all back. A notice
// none of whose texts may go out gives its slot of the user's hour back.
func (s *Core) TakeNotice(ctx context.Context, realm, user string, n int, at time.Time) Notices {
	key, id := store.Key("notices", realm, user), RandomID()
	rate := s.Limits.GlobalEnrolled
	// Below the last slot first: the one refused there and taken at the
	// limit is the hour's last (its window held MaxNotices-1 notices).
	// With it, the previous release's budget, counted in the realm's.
	var first store.Batch
	below := first.Slide(key, id, MaxNotices-1, noticeWindow, at)
	old := s.readStoreBudget(&first, "global_enrolled", rate, at)
	_ = store.Do(ctx, s.Store, &first)
	ok, err := below.OK, below.Err
	if err == nil && old != nil && old.Err != nil {
		// The budget could not be read: held back, the user's hour
		// not spent on it.
		if ok {
			_ = s.Store.Unslide(context.WithoutCancel(ctx), key, id)
		}
		return Notices{Limit: "global_enrolled"}
	}
	var last bool
	if err == nil && !ok {
		ok, _, err = s.Store.Slide(ctx, key, id, MaxNotices, noticeWindow, at)
		last = ok
	}
	if err != nil || !ok {
		return Notices{Limit: "notices"}
	}
	r := Notices{Allowed: n, Last: last}
	if rate.Count <= 0 || rate.Window <= 0 {
		return r
	}
	room, _ := s.budgetRoom("global_enrolled", rate, old)
	// A slot a phone, all in one batch (one round trip on Redis): as
	// many go out as the window has room for.
	var b store.Batch
	slots := make([]*store.Op, n)
	for i := range slots {
		slots[i] = b.Slide(budgetKey("global_enrolled", realm), RandomID(), room, rate.Window, at)
	}
	_ = store.Do(ctx, s.Store, &b) // a slot that failed is not taken: its phone is held back
	r.Allowed = 0
	for _, op := range slots {
		if op.OK && op.Err == nil {
			r.Allowed++
		}
	}
	if r.Allowed < n {
		r.Limit = "global_enrolled"
	}
	if r.Allowed == 0 {
		// Nothing goes out: the user's hour is not spent on it.
		_ = s.Store.Unslide(context.WithoutCancel(ctx), key, id)
		r.Last = false
	}
	return r
}
