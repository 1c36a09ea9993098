// Package clock reads the wall clock at about half time.Now's cost, for
// the request path: every admitted request compares its session's expiry
// with the time.
package clock

import (
	"sync/atomic"
	"time"
)

// Rebase is how often Now reads the wall clock itself: a step of the
// system clock (an admin's date, an NTP step) shows within this long.
const Rebase = time.Second

// base is a time.Now reading (with its monotonic part) that Now adds to.
var base atomic.Pointer[time.Time]

func init() {
	t := time.Now()
	base.Store(&t)
}

// Now is the current wall-clock time. time.Now reads two clocks, the wall
// clock and the monotonic one; Now reads only the monotonic clock
// (time.Since, one vDSO call) and adds what passed since its base, a
// time.Now reading at most Rebase old. The monotonic clock runs at the
// wall clock's rate (NTP slews both) and differs only by steps, so Now is
// time.Now but for a step of the last second. Safe for concurrent use.
func Now() time.Time {
	b := base.Load()
	if d := time.Since(*b); d >= 0 && d < Rebase {
		return b.Add(d)
	}
	t := time.Now()
	base.Store(&t)
	return t
}
