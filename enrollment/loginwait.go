package enrollment

import "github.com/smsgate/caddy-smsgate/store"

// At a login form, cooldowns count what was typed (cooldown.go), so that
// no answer tells a name from a number of it; alone, that let a name and
// its number, typed in turn, keep a schedule each for one phone — twice
// the texts either allows. So the number a login form's code goes to
// keeps its waits too: the base wait after its last code, shared by every
// client, and the client's streak (per IP), which a code to it by either
// typing continues. A send they hold is answered as a decoy is: the
// answer any send gets, and no text, so that it tells nobody which name
// the number is of. A known browser (its user's own) and the other steps keep only
// their own cooldown.

// numberWait is the records of a login form's code's number, read before
// it is sent: nil ops where none apply.
type numberWait struct{ shared, own *store.Op }

// numberWaitKeys are the keys of c's number's waits: "" where none apply
// (not a login form's send, a known browser, a decoy).
func (s *Challenges) numberWaitKeys(sc Scope, c *Challenge) (shared, own string) {
	if c.LimitKey == "" || sc.Known || c.Phone == "" || c.Purpose != Verify {
		return "", ""
	}
	id := s.numberID(c.Phone)
	return store.Key("cooldown-to", sc.Realm, id), store.Key("cooldown-to", sc.Realm, id, "ip", IPKey(sc.IP))
}

// readNumberWait adds to b reading c's number's waits.
func (s *Challenges) readNumberWait(b *store.Batch, sc Scope, c *Challenge) numberWait {
	shared, own := s.numberWaitKeys(sc, c)
	if shared == "" {
		return numberWait{}
	}
	return numberWait{shared: b.Get(shared), own: b.Get(own)}
}

// numberHeld is the wait of c's number's records (CooldownError), nil
// when they hold it not. It is asked after c's own cooldown (answered as
// it is), and answered only after c's records and limits are written, as
// a blind send that failed is: a known name's held send and an unknown
// name's decoy leave the same records and get the same answers, and
// "send again" on it sends once the wait is over.
func (s *Challenges) numberHeld(nw numberWait, sc Scope, c *Challenge) error {
	if nw.shared == nil {
		return nil
	}
	if wait := max(s.waitIn(nw.shared, sc, c, false), s.waitIn(nw.own, sc, c, false)); wait > 0 {
		return &CooldownError{Wait: wait}
	}
	return nil
}

// streak is how many codes came before the next one to the number by this
// client, by whatever was typed (0 where none apply).
func (nw numberWait) streak(s *Challenges) int {
	if nw.own == nil {
		return 0
	}
	return s.resendsAfter(nw.own)
}

// noteNumberWait is c's number's waits, to claim with the send's
// cooldown (startOnce; none for a send they held): the base wait for
// everyone, and c's own wait and streak for its client (writeWaits),
// each swapped in against what nw read. A name and its number typed at
// the same instant both read the number's base record as it was: the
// claim of one wins it, the other, having written none of its records,
// is decided again (start) and held by the wait the first wrote. A send
// taken back (undo) puts back what was there before (takeBack).
func (s *Challenges) noteNumberWait(sc Scope, c *Challenge, nw numberWait, held error) ([]wait, error) {
	shared, own := s.numberWaitKeys(sc, c)
	if shared == "" || held != nil {
		return nil, nil
	}
	return s.writeWaits(c, own, nw.own, shared, nw.shared)
}

// endNumberWait adds to b forgetting c's number's waits: a code was used.
func (s *Challenges) endNumberWait(b *store.Batch, sc Scope, c *Challenge) {
	sc.Known = false // the client's, whether or not the code made it known
	if shared, own := s.numberWaitKeys(sc, c); shared != "" {
		b.Delete(shared)
		b.Delete(own)
	}
}
