package harness

import (
	"testing"
	"time"
)

// TestOneBuildAtATime: BuildCaddy's lock waits while another holds it
// (on Linux another process, as the ports' locks), and is had as soon as
// it is let go.
func TestOneBuildAtATime(t *testing.T) {
	release, ok := lockName("go-run-test")
	if !ok {
		t.Fatal("the lock is held already")
	}
	got := make(chan func())
	go func() { got <- waitLock("go-run-test") }()
	select {
	case r := <-got:
		r()
		t.Fatal("a second build started while the first held the lock")
	case <-time.After(300 * time.Millisecond):
	}
	release()
	select {
	case r := <-got:
		r()
	case <-time.After(time.Minute): // a hang, not a measure
		t.Fatal("the second build still waits once the first let go")
	}
}
