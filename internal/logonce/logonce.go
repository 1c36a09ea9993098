// Package logonce keeps a flood of one refusal to few log lines: the first
// of a key in a window is written, with the number of that key's not
// written since the last ("repeats"); the others are counted. With Lines,
// the lines of all keys together are bounded too, and the next line written
// tells how many other keys went unwritten meanwhile.
package logonce

import (
	"sync"
	"time"
)

// maxKeys is how many keys a Throttle keeps: past it, those told a window ago
// or more go first, their counts lost.
const maxKeys = 10000

// Throttle tells, per key, whether a line is to be written. The zero
// value is not usable: set Every.
type Throttle struct {
	Every time.Duration // at most one line per key in this long
	// Lines, when not 0, is how many lines of all keys together are written
	// in Every at most: a key past it is not told (and not marked told: its
	// next try may be), but counted among the hidden (Hidden).
	Lines int

	mu     sync.Mutex
	keys   map[string]entry
	window time.Time           // when the current window of Lines began
	lines  int                 // lines told in it
	hidden map[string]struct{} // keys left untold by Lines since the last line
}

type entry struct {
	told   time.Time
	untold int
}

// Tell reports whether key's line at now is to be written (the first of
// key in Every), with n, the number of key's not written since the last.
func (t *Throttle) Tell(key string, now time.Time) (n int, tell bool) {
	n, _, tell = t.Hidden(key, now)
	return n, tell
}

// Hidden is Tell that also counts, when the line is to be written, the
// other keys none of whose lines were written since the last line of any
// key because Lines were spent (at most maxKeys).
func (t *Throttle) Hidden(key string, now time.Time) (n, others int, tell bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.keys[key]
	if ok && now.Sub(e.told) < t.Every {
		e.untold++
		t.keys[key] = e
		return 0, 0, false
	}
	if t.Lines > 0 {
		if now.Sub(t.window) >= t.Every {
			t.window, t.lines = now, 0
		}
		if t.lines >= t.Lines {
			if t.hidden == nil {
				t.hidden = map[string]struct{}{}
			}
			if len(t.hidden) < maxKeys {
				t.hidden[key] = struct{}{}
			}
			e.untold++
			t.put(key, e, now)
			return 0, 0, false
		}
		t.lines++
		delete(t.hidden, key)
		others = len(t.hidden)
		clear(t.hidden)
	}
	t.put(key, entry{told: now}, now)
	return e.untold, others, true
}

// put keeps key's entry, making room past maxKeys.
func (t *Throttle) put(key string, e entry, now time.Time) {
	if _, ok := t.keys[key]; !ok && len(t.keys) >= maxKeys {
		for k, old := range t.keys {
			if now.Sub(old.told) >= t.Every {
				delete(t.keys, k)
			}
		}
	}
	if t.keys == nil || len(t.keys) >= maxKeys {
		if _, ok := t.keys[key]; !ok {
			t.keys = map[string]entry{}
		}
	}
	t.keys[key] = e
}
