package clock

import (
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
