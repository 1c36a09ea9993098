// Package logonce keeps a flood of one refusal to few log lines: the first
// of a key in a window is written, with the number of that key's not
// written since the last ("repeats"); the others are counted. With Lines,
// the lines of all keys together are bounded too, and the next line written
// tells how many other keys went unwritten meanwhile; the last line of each
// window is kept for the key left unwritten longest, so that no key is
// hidden for long by others taking every line.
package logonce

import (
	"sync"
	"time"

	"go.uber.org/zap"
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
	// next try may be), but counted among the hidden (Hidden). The last of
	// the Lines is the waiting key's (waiting).
	Lines int

	mu     sync.Mutex
	keys   map[string]entry
	window time.Time           // when the current window of Lines began
	lines  int                 // lines told in it
	hidden map[string]struct{} // keys left untold by Lines since the last line
	// waiting are the keys left untold by Lines and not told since, oldest
	// first (at most maxKeys): a window's last line is waiting[0]'s, and a
	// key first in line a whole window without coming leaves it.
	waiting []string
	queued  map[string]struct{} // waiting's keys
	first   string              // waiting[0] when the window began
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
			if t.lines < t.Lines && len(t.waiting) > 0 && t.waiting[0] == t.first {
				t.unqueue(t.first) // its line went unused: it is not coming
			}
			t.window, t.lines, t.first = now, 0, ""
			if len(t.waiting) > 0 {
				t.first = t.waiting[0]
			}
		}
		// The last line is the first waiting key's (anyone's if none waits).
		last := t.lines == t.Lines-1 && len(t.waiting) > 0 && t.waiting[0] != key
		if t.lines >= t.Lines || last {
			if t.hidden == nil {
				t.hidden = map[string]struct{}{}
			}
			if len(t.hidden) < maxKeys {
				t.hidden[key] = struct{}{}
			}
			t.queue(key)
			e.untold++
			t.put(key, e, now)
			return 0, 0, false
		}
		t.lines++
		t.unqueue(key)
		delete(t.hidden, key)
		others = len(t.hidden)
		clear(t.hidden)
	}
	t.put(key, entry{told: now}, now)
	return e.untold, others, true
}

// queue puts key last among the waiting, unless it waits already.
func (t *Throttle) queue(key string) {
	if _, ok := t.queued[key]; ok || len(t.waiting) >= maxKeys {
		return
	}
	if t.queued == nil {
		t.queued = map[string]struct{}{}
	}
	t.queued[key] = struct{}{}
	t.waiting = append(t.waiting, key)
}

// unqueue takes key out of the waiting (it is told, or not coming).
func (t *Throttle) unqueue(key string) {
	if _, ok := t.queued[key]; !ok {
		return
	}
	delete(t.queued, key)
	for i, k := range t.waiting {
		if k == key {
			t.waiting = append(t.waiting[:i], t.waiting[i+1:]...)
			break
		}
	}
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

// Repeats adds to a told line's fields the number of its key's lines not
// written since the last (Tell's n), where there were any.
func Repeats(fields []zap.Field, n int) []zap.Field {
	if n > 0 {
		fields = append(fields, zap.Int("repeats", n))
	}
	return fields
}
