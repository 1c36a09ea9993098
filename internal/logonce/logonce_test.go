package logonce

import (
	"testing"
	"time"
)

// The first of a key in a window is told, the rest counted and told with
// the next; keys are apart.
func TestTellOncePerKeyAndWindowWithRepeats(t *testing.T) {
	th := Throttle{Every: 5 * time.Second}
	t0 := time.Unix(1000, 0)
	for i, c := range []struct {
		key  string
		at   time.Duration
		n    int
		tell bool
	}{
		{"a", 0, 0, true},
		{"a", time.Second, 0, false},
		{"b", time.Second, 0, true},
		{"a", 4 * time.Second, 0, false},
		{"a", 5 * time.Second, 2, true},
		{"a", 11 * time.Second, 0, true},
	} {
		if n, tell := th.Tell(c.key, t0.Add(c.at)); n != c.n || tell != c.tell {
			t.Errorf("%d: Tell(%s, +%s) = %d, %v; want %d, %v", i, c.key, c.at, n, tell, c.n, c.tell)
		}
	}
}
