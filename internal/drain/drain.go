// Package drain ends something once its owner has let go of it and the
// last use of it in flight has ended.
//
// Caddy stops a config's servers without waiting for their requests in
// flight (they finish within the grace period, forever by default), and
// cleans up the config's modules at once: a gate's Cleanup runs while
// requests are still being served by it. What those requests need (the
// gate's store, its counting) must outlive Cleanup until they end.
package drain

import (
	"sync"
	"sync/atomic"
)

// Drain counts the uses in flight. Its zero value is ready. Hold and
// Release allocate nothing and take no lock: a gate pays them on every
// request.
type Drain struct {
	n      atomic.Int64 // uses in flight
	closed atomic.Bool
	final  func() // set by Close, before closed
	once   sync.Once
}

// Hold begins a use, which Release ends.
func (d *Drain) Hold() { d.n.Add(1) }

// Release ends a use Hold began; the last to end after Close runs Close's
// final (in its own time).
func (d *Drain) Release() {
	if d.n.Add(-1) == 0 && d.closed.Load() {
		d.finish()
	}
}

// Go runs f in a goroutine of its own, as a use: work a request leaves
// behind (a notice sent after the answer) keeps what it needs too.
func (d *Drain) Go(f func()) {
	d.Hold()
	go func() {
		defer d.Release()
		f()
	}()
}

// Close says the owner is done: final runs now if no use is in flight,
// else when the last one ends. Call it once.
func (d *Drain) Close(final func()) {
	d.final = final
	d.closed.Store(true)
	if d.n.Load() == 0 {
		d.finish()
	}
}

// finish runs final once: Close and the last Release may both see the
// count at zero.
func (d *Drain) finish() {
	d.once.Do(func() {
		if d.final != nil {
			d.final()
		}
	})
}
