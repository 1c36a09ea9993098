// Package logonce keeps a flood of one refusal to few log lines: the first
// of a key in a window is written, with the number of that key's not
// written since the last ("repeats"); the others are counted.
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

	mu   sync.Mutex
	keys map[string]entry
}

type entry struct {
	told   time.Time
	untold int
}

// Tell reports whether key's line at now is to be written (the first of
// key in Every), with n, the number of key's not written since the last.
func (t *Throttle) Tell(key string, now time.Time) (n int, tell bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.keys[key]
	if ok && now.Sub(e.told) < t.Every {
		e.untold++
		t.keys[key] = e
		return 0, false
	}
	if len(t.keys) >= maxKeys {
		for k, old := range t.keys {
			if now.Sub(old.told) >= t.Every {
				delete(t.keys, k)
			}
		}
	}
	if t.keys == nil || len(t.keys) >= maxKeys {
		t.keys = map[string]entry{}
	}
	t.keys[key] = entry{told: now}
	return e.untold, true
}
