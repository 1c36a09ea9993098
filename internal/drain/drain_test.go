package drain

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
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

// A use that comes after Close begins nothing, even while earlier ones are
// in flight (their store is still open, but the owner has let go of it),
// and the last of those still runs final.
func TestEnterAfterCloseIsRefused(t *testing.T) {
	var d Drain
	var ran atomic.Int32
	if !d.Enter() {
		t.Fatal("Enter refused before Close")
	}
	d.Close(func() { ran.Add(1) })
	if d.Enter() {
		t.Fatal("Enter began a use after Close")
	}
	if ran.Load() != 0 {
		t.Fatal("final ran while a use was in flight: a refused Enter ended it")
	}
	d.Release()
	if ran.Load() != 1 {
		t.Fatalf("final ran %d times after the last use, want 1", ran.Load())
	}
	if d.Enter() {
		t.Fatal("Enter began a use after the end")
	}
	if ran.Load() != 1 {
		t.Fatalf("final ran %d times, want 1", ran.Load())
	}
}

// Enter racing Close: every use that began finds what final ends still
// there, and final runs once, after the last of them. store is a plain
// variable: under -race, a use not ordered before final is reported.
func TestEnterRacesClose(t *testing.T) {
	for range 500 {
		var d Drain
		store := new(int)
		*store = 1
		var ran, entered atomic.Int32
		start := make(chan struct{})
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				<-start
				for range 3 {
					if !d.Enter() {
						return
					}
					entered.Add(1)
					if store == nil || *store != 1 {
						t.Error("a use that began found final run")
					}
					d.Release()
				}
			})
		}
		wg.Go(func() {
			<-start
			d.Close(func() { store = nil; ran.Add(1) })
		})
		close(start)
		wg.Wait()
		if ran.Load() != 1 {
			t.Fatalf("final ran %d times (%d uses), want 1", ran.Load(), entered.Load())
		}
		if d.Enter() {
			t.Fatal("Enter began a use after the end")
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

// An Enter refused while final runs (the last use's Release writing the
// last counts and closing the store, which may take seconds on a store
// that hangs) returns at once: before, it waited in final's sync.Once, and
// with it the request it was for (a 503 to retry, or a repeat visit whose
// turn it was to poll the revocations).
func TestARefusedEnterDoesNotWaitForFinal(t *testing.T) {
	var d Drain
	if !d.Enter() {
		t.Fatal("Enter refused before Close")
	}
	running, finish := make(chan struct{}), make(chan struct{})
	var ran atomic.Int32
	d.Close(func() { ran.Add(1); close(running); <-finish })
	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(finish)
	wg.Go(d.Release) // the last use: final runs, and takes its time
	<-running
	refused := make(chan bool, 1)
	wg.Go(func() { refused <- !d.Enter() })
	select {
	case ok := <-refused:
		if !ok {
			t.Fatal("Enter began a use after Close")
		}
	case <-time.After(30 * time.Second): // a hang guard: before, it waited for final, which never ends here
		t.Fatal("an Enter refused after Close waited for final to end")
	}
	if ran.Load() != 1 {
		t.Fatalf("final ran %d times, want 1", ran.Load())
	}
}

func BenchmarkEnterRelease(b *testing.B) {
	var d Drain
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			d.Enter()
			d.Release()
		}
	})
}
