// Package clock carries a clock to what a Caddy context provisions, and is
// the clock tests give it. A gate takes its time from From(ctx): a test
// that provisions its own gate (caddy.NewContext on a context made by
// With) gives it a clock of its own, so tests that move time run in
// parallel instead of sharing one package-level clock. Gates that Caddy
// provisions itself (its contexts carry no clock) read the default clock:
// Now, the wall clock at about half time.Now's cost, and Coarse, the
// same as a number, read at most Refresh ago (see Coarse).
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

// UnixNano is Now().UnixNano() without a time.Time: the monotonic clock
// read once (time.Since of a fixed reading) plus an offset to the wall
// clock that is read again at most Rebase after it was last read. Like
// Now, it is the wall clock but for a step of the last second. What it
// reads sits together in memory (see unix): an admitted request reads it.
func UnixNano() int64 {
	d := int64(time.Since(unix.mono))
	if d < unix.until.Load() {
		return unix.offset.Load() + d
	}
	t := time.Now()
	d = int64(t.Sub(unix.mono))
	unix.offset.Store(t.UnixNano() - d)
	unix.until.Store(d + int64(Rebase))
	return t.UnixNano()
}

// unix is UnixNano's state: mono, a time.Now reading (its monotonic part
// is what matters); offset, the wall clock's Unix nanoseconds less
// time.Since(mono) when the wall clock was last read; until, the
// time.Since(mono) at which to read it again. A reader that sees offset
// and until from two different readings of the wall clock still gets the
// wall clock, give or take a step made within the last Rebase.
var unix struct {
	mono          time.Time
	offset, until atomic.Int64
}

func init() { unix.mono = time.Now() }

// Coarse is UnixNano as a repeat visit needs it: a reading made at most
// Refresh ago, plus Ahead. Each request reads one number, where UnixNano
// reads the clock (a vDSO call, and the memory behind it, which the
// proxy's work between two requests evicts): it was an eighth of the
// gate's own time on an admitted request. nginx keeps its time the same
// way (ngx_time_update, once per turn of its event loop).
//
// It is never behind the real time (but for a step of the system clock,
// as UnixNano) unless the runtime runs its timer more than Ahead-Refresh
// late, and it is at most Ahead in front: a session's expiry compared with
// it ends the session up to Ahead early (the token is then verified
// again), never late; the revocation poll, due a RevocationPoll after the
// last, comes at most Refresh later than with the clock read each time.
// A reading serves until the timer clears it, Refresh after it was made;
// the next call reads the clock again and starts the timer. An idle
// server wakes once after its last request, then not until the next.
func Coarse() int64 {
	if t := coarse.now.Load(); t != 0 {
		return t
	}
	return recoarse()
}

// Ahead and Refresh: see Coarse.
const (
	Ahead   = 250 * time.Millisecond
	Refresh = 50 * time.Millisecond
)

// recoarse reads the clock for Coarse, and starts the timer that clears
// the reading if this call made it (the others use their own reading).
func recoarse() int64 {
	t := UnixNano() + int64(Ahead)
	if coarse.now.CompareAndSwap(0, t) {
		coarse.clear.Reset(Refresh)
	}
	return t
}

// coarse is Coarse's state: now, the reading served (0: none, read the
// clock), cleared by the timer clear.
var coarse struct {
	now   atomic.Int64
	clear *time.Timer
}

func init() {
	coarse.clear = time.AfterFunc(time.Hour, func() { coarse.now.Store(0) })
	coarse.clear.Stop()
}

type key struct{}

// defaultNow is the clock of a gate whose Provision context carries none:
// the real time (Now, and Coarse for the repeat visits: defaultCoarse),
// unless a test binary that runs Caddy in process moved it (SetDefault).
var (
	defaultNow    = Now
	defaultCoarse = true
)

// SetDefault makes now the clock of every gate provisioned after it whose
// context carries none: internal/sitetest's movable clock, set once
// before any gate runs.
func SetDefault(now func() time.Time) { defaultNow, defaultCoarse = now, false }

// With returns ctx carrying now as the clock of whatever is provisioned
// with it.
func With(ctx context.Context, now func() time.Time) context.Context {
	return context.WithValue(ctx, key{}, now)
}

// From is the clock ctx carries or, if it carries none (Caddy's own
// contexts), the default one (Now in production). coarse reports that it
// is the real time, Now, which repeat visits may then read as Coarse (up
// to Ahead in front, which builds no time.Time and reads no clock: every
// admitted request reads it); a test's clock is read as it is.
func From(ctx context.Context) (now func() time.Time, coarse bool) {
	switch now := ctx.Value(key{}).(type) {
	case production:
		return Now, true
	case func() time.Time:
		if now != nil {
			return now, false
		}
	}
	return defaultNow, defaultCoarse
}

// Production returns ctx carrying the clock of a gate Caddy provisions in
// production (Now, read as Coarse by repeat visits), whatever SetDefault
// made the default: for benchmarks of the production path in a test
// binary whose default clock the tests move.
func Production(ctx context.Context) context.Context {
	return context.WithValue(ctx, key{}, production{})
}

type production struct{}

// Test is a clock for a test: the real time, moved forward by Advance,
// or stopped (Stop). Its zero value is the real time; it is safe for
// concurrent use.
type Test struct{ skew, stopped atomic.Int64 }

// Now is the real time plus every Advance so far; while the clock is
// stopped, the time it stopped at plus every Advance so far.
func (c *Test) Now() time.Time {
	now := time.Now()
	if at := c.stopped.Load(); at != 0 {
		now = time.Unix(0, at)
	}
	return now.Add(time.Duration(c.skew.Load()))
}

// Stop stops the clock at the real time at (plus the skew Advance gave
// it): from then on only Advance moves it, until Run.
func (c *Test) Stop(at time.Time) { c.stopped.Store(at.UnixNano()) }

// Run lets a stopped clock run again, on the real time (what passed while
// it was stopped passes at once).
func (c *Test) Run() { c.stopped.Store(0) }

// Advance moves the clock forward by d, as waiting d would.
func (c *Test) Advance(d time.Duration) { c.skew.Add(int64(d)) }

// StartOfHour moves the clock to just past the next full hour, so that a
// test of an hourly limit stays within one window.
func (c *Test) StartOfHour() {
	t := c.Now()
	c.Advance(t.Truncate(time.Hour).Add(time.Hour + time.Second).Sub(t))
}

type budgetKey struct{}

// ForBudgets returns ctx on which the store budgets given under it
// (store.WithBudget) are read on now, not time.Now: a test's own clock,
// so that a call can spend a request's budget without the test waiting it
// out (each call's deadline is still what is left, in real time).
func ForBudgets(ctx context.Context, now func() time.Time) context.Context {
	return context.WithValue(ctx, budgetKey{}, now)
}

// Budgets is the clock of a store budget given under ctx: time.Now, or
// the one ForBudgets gave it.
func Budgets(ctx context.Context) func() time.Time {
	if now, _ := ctx.Value(budgetKey{}).(func() time.Time); now != nil {
		return now
	}
	return time.Now
}
