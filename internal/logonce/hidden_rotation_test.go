package logonce

import (
	"fmt"
	"testing"
	"time"
)

// Five sources (review29) posting forged receipts without pause take every
// one of the forgedLines (5) lines of each 5 s window, each told again the
// instant its own 5 s end, which is the instant the window starts again: a
// sixth source, posting once a second for ten minutes, is never named; it
// is only counted (other_sources 1).
func TestFiveFloodingSourcesDoNotHideASixth(t *testing.T) {
	th := &Throttle{Every: 5 * time.Second, Lines: 5}
	start := time.Unix(1_800_000_000, 0)
	victimTold, others := 0, 0
	for ms := 0; ms < 600_000; ms += 50 {
		now := start.Add(time.Duration(ms) * time.Millisecond)
		for i := range 5 {
			if _, o, tell := th.Hidden(fmt.Sprint("203.0.113.", i), now); tell {
				others += o
			}
		}
		if ms%1000 == 350 { // the victim, once a second, mid-window
			if _, _, tell := th.Hidden("198.51.100.7", now); tell {
				victimTold++
			}
		}
	}
	if victimTold == 0 {
		t.Errorf("the sixth source was never named in 10 minutes (other_sources summed: %d)", others)
	}
}

// With more flooding sources than lines, the last line of each window goes
// to the source left unwritten longest: a source posting once a second is
// named within a bounded time (here the sources ahead of it: 5 windows),
// and no window writes more than Lines lines.
func TestManyFloodingSourcesNameEachInTurn(t *testing.T) {
	th := &Throttle{Every: 5 * time.Second, Lines: 5}
	start := time.Unix(1_800_000_000, 0)
	lines := map[int]int{}
	var told []int // the victim's windows
	for ms := 0; ms < 120_000; ms += 50 {
		now := start.Add(time.Duration(ms) * time.Millisecond)
		for i := range 9 {
			if _, _, tell := th.Hidden(fmt.Sprint("203.0.113.", i), now); tell {
				lines[ms/5000]++
			}
		}
		if ms%1000 == 350 {
			if _, _, tell := th.Hidden("198.51.100.7", now); tell {
				lines[ms/5000]++
				told = append(told, ms/5000)
			}
		}
	}
	for w, n := range lines {
		if n > 5 {
			t.Errorf("window %d wrote %d lines; want 5 at most", w, n)
		}
	}
	if len(told) < 3 {
		t.Fatalf("the victim was named in windows %v in 2 minutes; want every few windows", told)
	}
	for i := 1; i < len(told); i++ {
		if told[i]-told[i-1] > 6 {
			t.Errorf("the victim was named in windows %v: a gap of more than 6", told)
		}
	}
	t.Logf("the victim named in windows %v", told)
}
