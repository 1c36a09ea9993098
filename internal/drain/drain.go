// Package drain ends something once its owner has let go of it and the
// last use of it in flight has ended.
//
// Caddy stops a config's servers without waiting for their requests in
// flight (they finish within the grace period, forever by default), and
// cleans up the config's modules at once: a gate's Cleanup runs while
// requests are still being served by it. What those requests need (the
// gate's store, its counting) must outlive Cleanup until they end. A
// request that reaches the gate only after Cleanup (it was still in a
// handler before the gate) must not begin a use at all: Enter tells it so.
package drain

import (
	"sync"
	"sync/atomic"
)

// closed is the bit of Drain.n that Close sets; the bits below it count
// the uses in flight. One word for both, so that a use that begins and a
// Close are ordered: one of them sees the other.
const closed = 1 << 62

// Drain counts the uses in flight. Its zero value is ready. Enter, Hold
// and Release allocate nothing and take no lock: a gate pays them on
// every request that needs its store.
type Drain struct {
	n     atomic.Int64 // closed, and the uses in flight
	final func()       // set by Close, before it sets closed
	once  sync.Once
	begun atomic.Bool // final has begun (an Enter refused does not wait for it)
}

// Enter begins a use, which Release ends, unless Close came first: then
// it begins nothing and reports false, and what final ends (the store)
// must not be touched. An Enter that comes before Close keeps final from
// running until its Release.
func (d *Drain) Enter() bool {
	if d.n.Add(1)&closed == 0 {
		return true
	}
	// Not a use: the count goes back, and final runs if that was the last,
	// unless it has begun (the last use's Release runs it): the refused
	// request does not wait for the store to close.
	if d.n.Add(-1) == closed && !d.begun.Load() {
		d.finish()
	}
	return false
}

// Hold begins a use, which Release ends, whether or not Close came first.
// Call it only within a use already begun (as Go does): a use that begins
// after the last one ended would find final run.
func (d *Drain) Hold() { d.n.Add(1) }

// Release ends a use Enter or Hold began; the last to end after Close
// runs Close's final (in its own time).
func (d *Drain) Release() {
	if d.n.Add(-1) == closed {
		d.finish()
	}
}

// Go runs f in a goroutine of its own, as a use: work a request leaves
// behind (a notice sent after the answer) keeps what it needs too. Call
// it within a use (the request's).
func (d *Drain) Go(f func()) {
	d.Hold()
	go func() {
		defer d.Release()
		f()
	}()
}

// Close says the owner is done: final runs now if no use is in flight,
// else when the last one ends; Enter begins no use from now on. Call it
// once.
func (d *Drain) Close(final func()) {
	d.final = final
	if d.n.Or(closed) == 0 {
		d.finish()
	}
}

// finish runs final once: an Enter refused after Close may take the count
// back to zero again.
func (d *Drain) finish() {
	d.once.Do(func() {
		d.begun.Store(true)
		if d.final != nil {
			d.final()
		}
	})
}
