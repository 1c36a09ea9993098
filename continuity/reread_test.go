package continuity

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestARereadWaitsForABusyWatchOnlyWhileItsContextLasts: the gate's own
// watch holds its turn (a look at a dead store, up to 10 s); a Reread
// gives up when its context ends, the record unread, and reads it once
// the turn is let go. Check waits for the turn whatever its context.
func TestARereadWaitsForABusyWatchOnlyWhileItsContextLasts(t *testing.T) {
	w, _ := gate(t, badger(t), t.TempDir(), storeID(t), false)
	w.mu.Lock() // a turn of the watch's own
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := w.Reread(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a reread behind a busy watch: %v, want its context's end", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("a reread waited %v behind a busy watch, past its 200 ms", took)
	}
	go func() { time.Sleep(50 * time.Millisecond); w.mu.Unlock() }()
	long, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := w.Reread(long); err != nil {
		t.Errorf("a reread once the turn was let go: %v", err)
	}
	if _, err := w.Reread(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a reread whose context is over: %v, want its end", err)
	}
}
