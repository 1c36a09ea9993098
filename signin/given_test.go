package signin

import (
	"testing"

	"github.com/smsgate/caddy-smsgate/session"
)

// TestGivesTheRealmsNumbersOnceStarted: before the config's start a gate
// gives a provisioned user its own `user` line's number; once started,
// the realm's (GiveNumbers), its own among them; a mark of another number,
// of a user it gives none, or no mark at all, is given by none.
func TestGivesTheRealmsNumbersOnceStarted(t *testing.T) {
	s := newService(t, FirstFactor{})
	mark := func(e164 string) string { return session.NumberMark(s.Devices.NumberID(e164)) }
	own, other := mark("+14155552671"), mark("+447400123456")
	if !s.Gives("carol", own) || s.Gives("carol", other) || s.Gives("dave", own) {
		t.Error("before the start: the gate's own line only")
	}
	s.GiveNumbers(map[string][]string{"carol": {"+14155552671", "+447400123456"}})
	if !s.Gives("carol", own) || !s.Gives("carol", other) || s.Gives("dave", own) {
		t.Error("once started: the realm's numbers")
	}
	if s.Gives("carol", s.Devices.NumberID("+14155552671")) || s.Gives("carol", session.NumberMark("")) {
		t.Error("a number's hash without the mark, or an empty mark, given")
	}
	s.GiveNumbers(map[string][]string{"carol": {"+447400123456"}})
	if s.Gives("carol", own) {
		t.Error("a number no gate of the realm gives any more, given")
	}
}
