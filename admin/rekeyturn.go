package admin

import (
	"context"
	"sync"
	"time"
)

// RekeyTurn is the gate's turn to make its realm's records of numbers'
// hashes again under the store's new secret (signin.Service.RekeyTurn):
// once its config started (its gates given their numbers), under the
// lock its realm's settles take, so that a settle never runs meanwhile;
// done lets the lock go. None (ok false) for a gate of a config another
// replaced since (its numbers are no longer the config's: what the new
// one gives would be taken for lost), of a config that stopped, or when
// ctx ends first. A gate outside an app has its turn at once.
func (s *Site) RekeyTurn(ctx context.Context) (done func(), ok bool) {
	a := s.app
	if a == nil {
		return func() {}, true
	}
	var stopped <-chan struct{}
	if a.ctx.Context != nil {
		stopped = a.ctx.Done()
	}
	for {
		if !s.RekeyOn() {
			return nil, false
		}
		if a.started.Load() { // its lock's key set (settleKey)
			mu, _ := settling.locks.LoadOrStore(s.settleKey(), new(sync.Mutex))
			if mu.(*sync.Mutex).TryLock() {
				if settling.latest.Load() == a {
					return mu.(*sync.Mutex).Unlock, true
				}
				mu.(*sync.Mutex).Unlock()
				return nil, false
			}
		}
		select {
		case <-ctx.Done():
			return nil, false
		case <-stopped:
			return nil, false
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// RekeyOn reports whether the gate may still re-key (RekeyTurn, and a
// failed re-keying's retry: signin.Service.RekeyOn): its config neither
// replaced by another nor stopped.
func (s *Site) RekeyOn() bool {
	a := s.app
	if a == nil {
		return true
	}
	if a.ctx.Context != nil && a.ctx.Err() != nil {
		return false
	}
	return !a.started.Load() || settling.latest.Load() == a
}
