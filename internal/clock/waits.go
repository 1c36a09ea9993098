package clock

import (
	"fmt"
	"iter"
	"sync"
	"sync/atomic"
	"time"
)

// A Wait is one of the product's fixed waits (a request's store budget,
// the store watch's interval, a retry's first step, a replica's WAIT), as
// its code reads it: its documented length, unless a test shortened it
// (Shorten) to sit through less of it. A test's Caddy process is the test
// binary run again, so a wait is named, and shortened there by its name
// (sitetest's knob "wait"; internal/processes' test binary, run as
// Caddy, reads the names from its own TestMain's variable). Nothing else
// sets it: no option, no environment variable of the product's, and the
// package is internal to the module.
type Wait struct {
	d     time.Duration
	short atomic.Int64 // nanoseconds; 0: d
}

// waits are the waits by name.
var waits sync.Map

// NewWait is the wait named name, of length d: call it once, in a
// package variable's initializer.
func NewWait(name string, d time.Duration) *Wait {
	w := &Wait{d: d}
	if _, dup := waits.LoadOrStore(name, w); dup {
		panic("clock: two waits named " + name)
	}
	return w
}

// Get is the wait's length.
func (w *Wait) Get() time.Duration {
	if d := w.short.Load(); d != 0 {
		return time.Duration(d)
	}
	return w.d
}

// Doubling is a retry's waits (a failed settle's, a failed re-keying's):
// the wait's length, then twice as long each time, up to a minute.
func (w *Wait) Doubling() iter.Seq[time.Duration] {
	return func(yield func(time.Duration) bool) {
		for d := w.Get(); yield(d); d = min(2*d, time.Minute) {
		}
	}
}

// Shorten makes the wait named name d long, until restore: for a test,
// never a user. d is at most the wait's length (which puts it back), and
// at least a millisecond (Redis's WAIT counts milliseconds, and 0 is
// forever).
func Shorten(name string, d time.Duration) (restore func(), err error) {
	v, ok := waits.Load(name)
	if !ok {
		return nil, fmt.Errorf("no wait named %q", name)
	}
	w := v.(*Wait)
	if d < time.Millisecond || d > w.d {
		return nil, fmt.Errorf("wait %s: %v is not between 1ms and its %v", name, d, w.d)
	}
	was := w.short.Swap(int64(d))
	return func() { w.short.Store(was) }, nil
}
