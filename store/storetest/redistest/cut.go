package redistest

// A Watch's cuts: a command's connection closed once the server made it.

// Cut makes the proxy pass the next n commands named name (lower case:
// "evalsha", "getdel") on to the server and, once the server answered
// one, close the client's connection in place of that answer (the
// answers before it given): a connection lost after the command was made,
// before its client heard so, which go-redis meets as a failed read (and
// may send the command again on a new connection: one not cut). Cut the
// last command of a round trip: what came after it on that connection
// may or may not be made.
func (w *Watch) Cut(name string, n int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cuts == nil {
		w.cuts = map[string]int{}
	}
	w.cuts[name] += n
}

// CutThen is Cut of the next command named name, and between runs once the
// server answered it, before the client's connection is closed: a write
// made by another between the cut command and anything the client does
// on hearing of the cut (go-redis's sending it again). Uncut takes it back
// with the cut.
func (w *Watch) CutThen(name string, between func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cuts == nil {
		w.cuts = map[string]int{}
	}
	if w.thens == nil {
		w.thens = map[string][]func(){}
	}
	w.cuts[name]++
	w.thens[name] = append(w.thens[name], between)
}

// Uncut takes back the cuts Cut and Stall asked for that were not made, and says
// how many there were.
func (w *Watch) Uncut() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, left := range w.cuts {
		n += left
	}
	for _, left := range w.stalls {
		n += left
	}
	w.cuts, w.stalls, w.thens = nil, nil, nil
	return n
}

// Stall is Cut, but the client's connection is left open, the answer
// (and those after it) kept from it: a server that made the command and
// never answered, until the client gives up (go-redis's read timeout, 5
// s) and closes it.
func (w *Watch) Stall(name string, n int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stalls == nil {
		w.stalls = map[string]int{}
	}
	w.stalls[name] += n
}
