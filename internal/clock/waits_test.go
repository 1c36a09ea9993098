package clock

import (
	"slices"
	"testing"
	"time"
)

// TestAWaitIsItsLengthUntilATestShortensIt: Get is the wait's length;
// Shorten, by name, changes it until its restore, to no more than that
// length and no less than a millisecond; an unknown name is refused.
func TestAWaitIsItsLengthUntilATestShortensIt(t *testing.T) {
	w := NewWait("test-wait", 2*time.Second)
	if w.Get() != 2*time.Second {
		t.Fatalf("unshortened: %v", w.Get())
	}
	restore, err := Shorten("test-wait", 100*time.Millisecond)
	if err != nil || w.Get() != 100*time.Millisecond {
		t.Fatalf("shortened: %v, %v", w.Get(), err)
	}
	back, err := Shorten("test-wait", 2*time.Second)
	if err != nil || w.Get() != 2*time.Second {
		t.Fatalf("put back to its length: %v, %v", w.Get(), err)
	}
	back()
	if w.Get() != 100*time.Millisecond {
		t.Fatalf("the put-back undone: %v", w.Get())
	}
	restore()
	if w.Get() != 2*time.Second {
		t.Fatalf("restored: %v", w.Get())
	}
	for _, d := range []time.Duration{3 * time.Second, time.Microsecond, 0} {
		if _, err := Shorten("test-wait", d); err == nil || w.Get() != 2*time.Second {
			t.Errorf("%v: %v, now %v", d, err, w.Get())
		}
	}
	if _, err := Shorten("no-such-wait", time.Millisecond); err == nil {
		t.Error("an unknown wait shortened")
	}
}

// TestDoublingWaitsDoubleUpToAMinute: a retry's waits are the wait's
// length (as shortened), then twice as long each time, up to a minute.
func TestDoublingWaitsDoubleUpToAMinute(t *testing.T) {
	w := NewWait("test-doubling", 10*time.Second)
	var got []time.Duration
	for d := range w.Doubling() {
		if got = append(got, d); len(got) == 5 {
			break
		}
	}
	want := []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, time.Minute, time.Minute}
	if !slices.Equal(got, want) {
		t.Errorf("waits %v; want %v", got, want)
	}
	restore, err := Shorten("test-doubling", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer restore()
	for d := range w.Doubling() {
		if d != time.Second {
			t.Errorf("shortened: first wait %v; want 1s", d)
		}
		break
	}
}
