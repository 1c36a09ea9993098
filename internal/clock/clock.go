// Package clock carries a clock to what a Caddy context provisions, and is
// the clock tests give it. A gate takes its time from From(ctx): a test
// that provisions its own gate (caddy.NewContext on a context made by
// With) gives it a clock of its own, so tests that move time run in
// parallel instead of sharing one package-level clock. Gates that Caddy
// provisions itself (its contexts carry no clock) read Default, which is
// Now: the wall clock at about half time.Now's cost.
package clock

import (
	"context"
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

type key struct{}

// Default is the clock of a gate whose Provision context carries none: the
// real time, unless a test binary that runs Caddy in process moved it
// (internal/sitetest sets it once, before any gate runs; a gate takes the
// value it has when it is provisioned). Now, not time.Now: every admitted
// request reads it.
var Default = Now

// With returns ctx carrying now as the clock of whatever is provisioned
// with it.
func With(ctx context.Context, now func() time.Time) context.Context {
	return context.WithValue(ctx, key{}, now)
}

// From is the clock ctx carries, or otherwise (Caddy's own contexts carry
// none) fallback: Now in production.
func From(ctx context.Context, fallback func() time.Time) func() time.Time {
	if now, ok := ctx.Value(key{}).(func() time.Time); ok && now != nil {
		return now
	}
	return fallback
}

// Test is a clock for a test: the real time, moved forward by Advance.
// Its zero value is the real time; it is safe for concurrent use.
type Test struct{ skew atomic.Int64 }

// Now is the real time plus every Advance so far.
func (c *Test) Now() time.Time { return time.Now().Add(time.Duration(c.skew.Load())) }

// Advance moves the clock forward by d, as waiting d would.
func (c *Test) Advance(d time.Duration) { c.skew.Add(int64(d)) }

// StartOfHour moves the clock to just past the next full hour, so that a
// test of an hourly limit stays within one window.
func (c *Test) StartOfHour() {
	t := c.Now()
	c.Advance(t.Truncate(time.Hour).Add(time.Hour + time.Second).Sub(t))
}
