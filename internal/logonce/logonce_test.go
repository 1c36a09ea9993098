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

// With Lines, the lines of all keys are bounded: a key past them is not
// told, and the next line of any key counts it among the others hidden; a
// hidden key's own next try is told, with its repeats.
func TestLinesBoundAllKeysAndCountTheHidden(t *testing.T) {
	th := Throttle{Every: 5 * time.Second, Lines: 2}
	t0 := time.Unix(1000, 0)
	for i, c := range []struct {
		key       string
		at        time.Duration
		n, others int
		tell      bool
	}{
		{"a", 0, 0, 0, true},
		{"b", time.Second, 0, 0, true},
		{"c", time.Second, 0, 0, false}, // Lines spent
		{"d", 2 * time.Second, 0, 0, false},
		{"d", 3 * time.Second, 0, 0, false},
		{"a", 3 * time.Second, 0, 0, false}, // a's own window
		{"d", 5 * time.Second, 2, 1, true},  // a new window: c hidden besides
		{"c", 6 * time.Second, 1, 0, true},
		{"e", 6 * time.Second, 0, 0, false},
		{"e", 11 * time.Second, 1, 0, true},
	} {
		if n, others, tell := th.Hidden(c.key, t0.Add(c.at)); n != c.n || others != c.others || tell != c.tell {
			t.Errorf("%d: Hidden(%s, +%s) = %d, %d, %v; want %d, %d, %v", i, c.key, c.at, n, others, tell, c.n, c.others, c.tell)
		}
	}
}
