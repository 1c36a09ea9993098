package drain

import (
	"sync"
	"sync/atomic"
	"testing"
)

func TestCloseWithNothingInFlight(t *testing.T) {
	var d Drain
	var ran atomic.Int32
	d.Close(func() { ran.Add(1) })
	d.Hold()
	d.Release() // a use after the end runs nothing again
	if ran.Load() != 1 {
		t.Fatalf("final ran %d times, want 1", ran.Load())
	}
}

func TestCloseWaitsForTheLastUse(t *testing.T) {
	var d Drain
	var ran atomic.Int32
	d.Hold()
	d.Hold()
	d.Close(func() { ran.Add(1) })
	d.Release()
	if ran.Load() != 0 {
		t.Fatal("final ran while a use was in flight")
	}
	d.Release()
	if ran.Load() != 1 {
		t.Fatalf("final ran %d times after the last use, want 1", ran.Load())
	}
}

func TestConcurrentUses(t *testing.T) {
	for range 200 {
		var d Drain
		var ran, inFlight atomic.Int32
		var wg sync.WaitGroup
		for range 8 {
			d.Hold()
			inFlight.Add(1)
			wg.Go(func() { inFlight.Add(-1); d.Release() })
		}
		d.Close(func() {
			if inFlight.Load() != 0 {
				t.Error("final ran while a use was in flight")
			}
			ran.Add(1)
		})
		wg.Wait()
		if ran.Load() != 1 {
			t.Fatalf("final ran %d times, want 1", ran.Load())
		}
	}
}

// Work handed to Go is a use: Close's final waits for it.
func TestGoIsAUse(t *testing.T) {
	var d Drain
	started, finish := make(chan struct{}), make(chan struct{})
	var workDone, finalRan atomic.Bool
	final := make(chan struct{})
	d.Go(func() {
		close(started)
		<-finish
		workDone.Store(true)
	})
	<-started
	d.Close(func() {
		finalRan.Store(workDone.Load())
		close(final)
	})
	close(finish)
	<-final
	if !finalRan.Load() {
		t.Fatal("final ran before the work handed to Go had ended")
	}
}

func BenchmarkHoldRelease(b *testing.B) {
	var d Drain
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			d.Hold()
			d.Release()
		}
	})
}
