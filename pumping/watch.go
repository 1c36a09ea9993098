package pumping

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
)

// Watch is one send as the guard sees it: what the send's first batch
// read (the places' pauses and counters, the number's unused codes), then
// what its second batch counted.
type Watch struct {
	g        *Guard
	realm    string
	now      time.Time
	slot     int64
	weight   float64
	places   [2]place
	enrolled bool
	numberID string
	// unused and unusedBack are the number's codes unused in a row, and
	// those of them given back (oldBack: by the previous release);
	// counted is this send's count of it.
	unused, unusedBack, oldBack, counted *store.Op
	decoy                                bool
}

// place is a country or a prefix, with the send's operations on it: its
// pause, its codes sent and used in this window and the one before, and
// the sends given back (GiveBack) of both. forgot says the pause this
// send began there forgot the place's counts, this send's among them.
type place struct {
	name, kind                      string
	pause, prevSent, prevUsed, used *store.Op
	prevBack, back                  *store.Op
	sent                            *store.Op
	forgot                          bool
}

// A send is counted in the batch that claims its waits and counts its
// limits (one round trip for all), before it is known to happen: it may
// lose its claim to another send at once (and be decided again), or be
// refused by a limit, or its gateway may send nothing. Such a send gives
// its count back (GiveBack) where it takes the rest back, by counting it
// in the place's and the number's given-back counters, which every
// send's first batch reads beside the counters they correct (a store
// counter cannot go down in a batch): the guard weighs the sends that
// happened, not the tries.

// Watch adds, to a send's first batch, what the guard must read to judge
// it: for e164's country and prefix their pause, the codes sent and used
// in the window, and the codes the number (numberID, its keyed hash) left
// unused. enrolled says the number is the user's already (a sign-in, not
// a new phone). An empty e164 is a decoy, which does the same store work
// on keys that keep nothing. A nil guard watches nothing (nil).
func (g *Guard) Watch(b *store.Batch, realm, e164, numberID string, enrolled bool) *Watch {
	if g == nil {
		return nil
	}
	w := &Watch{g: g, realm: realm, now: g.Now(), enrolled: enrolled, numberID: numberID, decoy: e164 == ""}
	w.slot, w.weight = g.slot(w.now)
	if w.decoy {
		w.places = [2]place{{name: "decoy/country", kind: Country}, {name: "decoy/prefix", kind: Prefix}}
		w.numberID = "decoy"
	} else {
		w.places = g.places(e164)
	}
	for i := range w.places {
		p := &w.places[i]
		if p.name == "" {
			continue
		}
		p.pause = b.Get(pauseKey(realm, p.name))
		p.prevSent = b.Counter(sentKey(realm, p.name, w.slot-1))
		p.prevUsed = b.Counter(usedKey(realm, p.name, w.slot-1))
		p.used = b.Counter(usedKey(realm, p.name, w.slot))
		p.prevBack = b.Counter(backKey(realm, p.name, w.slot-1))
		p.back = b.Counter(backKey(realm, p.name, w.slot))
	}
	w.unused = b.Counter(unusedKey(realm, w.numberID))
	w.unusedBack = b.Counter(unusedBackKey(realm, w.numberID))
	w.oldBack = b.Counter(oldBackKey(realm, w.numberID))
	return w
}

// unusedCodes is how many codes in a row the number left unused, those
// given back aside (the previous release's too).
func (w *Watch) unusedCodes() int64 {
	return max(w.unused.N-givenBack(w.unusedBack.N)-givenBack(w.oldBack.N), 0)
}

// The number's record of codes given back holds their count in its low 32
// bits, and above them a mark (none in one a give-back began): drawn
// afresh by the send that forgets the counts of a window ended (Count), so
// that the record it leaves is told from every one read before, whatever
// its count. Marks are drawn from 22 bits (newMark): the record stays a
// count far below what either store's counter holds.
const backBits = 32

// givenBack is the count a record of codes given back holds.
func givenBack(n int64) int64 { return n & (1<<backBits - 1) }

// newMark is a record of no codes given back, its mark drawn afresh.
func newMark() int64 { return (rand.Int64N(1<<22) + 1) << backBits }

// Refusal is the pause that refuses this send, if any: a place of the
// number's is paused, and the number is not one of the place's own users
// whose codes are used (enrolled, with fewer than Grace left unused).
func (w *Watch) Refusal() *Refusal {
	if w == nil || w.decoy {
		return nil
	}
	for _, p := range w.places {
		if p.pause == nil {
			continue
		}
		if ps := decode(p.pause.Value); ps.Active(w.now) && !w.exempt() {
			return &Refusal{Place: p.name, Wait: ps.Until.Sub(w.now)}
		}
	}
	return nil
}

// exempt reports whether the number keeps getting codes in a paused place.
func (w *Watch) exempt() bool {
	return w.enrolled && w.unusedCodes() < int64(w.g.Grace)
}

// Count adds, to the send's second batch, the code counted as sent in its
// country and prefix and as unused by its number. decoy says the send
// turned out to be a decoy after all (a number refused or taken): then it
// counts on the decoy's keys.
func (w *Watch) Count(b *store.Batch, decoy bool) {
	if w == nil {
		return
	}
	if decoy && !w.decoy {
		w.decoy = true
		w.places = [2]place{{name: "decoy/country", kind: Country}, {name: "decoy/prefix", kind: Prefix}}
		w.numberID = "decoy"
	}
	ttl := w.g.counterTTL()
	if w.decoy {
		ttl = decoyTTL
	}
	for i := range w.places {
		p := &w.places[i]
		if p.name != "" {
			p.sent = b.Incr(sentKey(w.realm, p.name, w.slot), ttl)
		}
	}
	w.counted = b.Incr(unusedKey(w.realm, w.numberID), w.unusedTTL())
	// The counter of unused codes is a fixed window from its first count,
	// and those given back began later: where the first batch found none
	// (ended, or never begun), any given back are of codes forgotten, and
	// go too — else they would hide as many new unused codes. Only those
	// the first batch read go (a compare-and-set against the record read):
	// a send at once to the number may have counted since, in the new
	// window, forgotten them first and given its count back, which stays.
	// So they are not deleted but set to none under a new mark: that
	// send's count given back is then told from the record read even
	// where its count is the same (a deleted record, given back once,
	// held 1 again). The previous release's count given back goes too,
	// against its read (only an instance of that release counts on it).
	// Elsewhere the records are read instead: every send does the same
	// store work.
	if w.unused.N == 0 {
		b.SwapCount(unusedBackKey(w.realm, w.numberID), w.unusedBack, newMark(), w.unusedTTL())
		b.Swap(oldBackKey(w.realm, w.numberID), w.oldBack, nil, 0)
	} else {
		b.Counter(unusedBackKey(w.realm, w.numberID))
		b.Counter(oldBackKey(w.realm, w.numberID))
	}
}

// unusedTTL is how long the number's counters of unused codes are kept.
func (w *Watch) unusedTTL() time.Duration {
	if w.decoy {
		return decoyTTL
	}
	return unusedMemory
}

// GiveBack adds, to the batch that takes back a send that did not happen
// (it lost its claim, a limit refused it, the guard refused it, the
// gateway sent nothing), the send's count given back: in its places'
// window and its number's unused codes, each where Count's batch counted
// it, but for a place whose pause this send began (Judge): that pause
// forgot the place's counts, this send's with them. A decoy's does the
// same work on the decoy's keys.
//
// A place another send paused meanwhile is given back too: that send
// forgets the place's counts once its pause is written, and this send's
// count (and its count given back, if that came first) went with them
// only if it was there by then, which this send cannot tell. Given back
// after the forgetting, it lowers the place's new window by one send.
func (w *Watch) GiveBack(b *store.Batch) {
	if w == nil {
		return
	}
	ttl := w.g.counterTTL()
	if w.decoy {
		ttl = decoyTTL
	}
	for _, p := range w.places {
		if p.name != "" && p.sent != nil && p.sent.Err == nil && !p.forgot {
			b.Incr(backKey(w.realm, p.name, w.slot), ttl)
		}
	}
	if w.counted != nil && w.counted.Err == nil {
		b.Incr(unusedBackKey(w.realm, w.numberID), w.unusedTTL())
	}
}

// weighed is the codes (sent, net of those given back; or used) of a
// sliding window ending now, from those of the fixed window before it
// (prev, weighed by how much of it the sliding one still spans) and of
// the current one (cur), none below zero.
func weighed(prev, cur int64, weight float64) float64 {
	return float64(max(prev, 0))*weight + float64(max(cur, 0))
}

// Judge runs once the send's second batch is done: if the codes of the
// number's country or prefix are now used too seldom, it pauses that
// place (one more round trip, on this send only) and tells Paused. It
// returns the refusal of this send, if its place is paused now: a send
// that is then not made, whose count goes back (GiveBack) but where its
// own pause forgot it.
func (w *Watch) Judge(ctx context.Context) (*Refusal, error) {
	if w == nil || w.decoy {
		return nil, nil
	}
	var refusal *Refusal
	for i := range w.places {
		p := &w.places[i]
		if p.sent == nil || p.sent.Err != nil || decode(p.pause.Value).Active(w.now) {
			continue
		}
		sent := weighed(p.prevSent.N-p.prevBack.N, p.sent.N-p.back.N, w.weight)
		used := weighed(p.prevUsed.N, p.used.N, w.weight)
		min := w.g.PrefixMinSends
		if p.kind == Country {
			min = w.g.CountryMinSends
		}
		if sent < float64(min) || used >= w.g.MinConversion*sent {
			continue
		}
		// This send is counted, and refused unless exempt: asked for,
		// never sent (walk33: "Codes sent: 2" where the costs page said 1).
		asked := int64(math.Round(sent))
		gone := asked
		if !w.exempt() {
			gone--
		}
		ps, forgot, err := w.g.pause(ctx, w.realm, p.name, p.kind, counts{asked: asked, sent: gone, used: int64(math.Round(used))}, w.now)
		p.forgot = forgot
		if err != nil {
			return nil, err
		}
		if refusal == nil && !w.exempt() {
			refusal = &Refusal{Place: p.name, Wait: ps.Until.Sub(w.now)}
		}
	}
	return refusal, nil
}

// counts are a place's codes when its pause began: asked for (the send
// that paused it too), sent, used.
type counts struct{ asked, sent, used int64 }

// pause starts place's pause, unless another send started one already;
// either way it returns the pause in force, and whether it forgot the
// place's counts (only where it started it).
func (g *Guard) pause(ctx context.Context, realm, place, kind string, n counts, now time.Time) (_ Pause, forgot bool, _ error) {
	var started Pause
	began := false
	err := g.Store.Update(ctx, pauseKey(realm, place), func(old []byte, _ bool) ([]byte, time.Duration, error) {
		prev := decode(old)
		if prev.Active(now) {
			started, began = *prev, false
			return nil, 0, store.ErrUnchanged
		}
		trips := 1
		if prev != nil && prev.ResumedBy == "" { // the record outlives its pause by a day
			trips = prev.Trips + 1
		}
		d := min(g.Pause<<min(trips-1, 10), MaxPause)
		started = Pause{Place: place, Kind: kind, Since: now, Until: now.Add(d), Asked: n.asked, Sent: n.sent, Used: n.used, Trips: trips}
		began = true
		raw, err := json.Marshal(started)
		return raw, d + MaxPause, err
	})
	if err != nil || !began {
		return started, false, err
	}
	// The codes that paused it are judged: once it ends, the place starts
	// afresh (else the first send after would pause it again).
	if err := g.forget(ctx, realm, place, now); err != nil {
		return started, false, err
	}
	if err := g.list(ctx, realm, place, started.Until); err != nil {
		return started, true, err
	}
	if g.Paused != nil {
		g.Paused(realm, started)
	}
	return started, true, nil
}

// list keeps place in realm's list of pauses, and drops from it those
// whose record has expired (a day after their end).
func (g *Guard) list(ctx context.Context, realm, place string, until time.Time) error {
	now := g.Now()
	return g.Store.Update(ctx, indexKey(realm), func(old []byte, _ bool) ([]byte, time.Duration, error) {
		places := map[string]time.Time{}
		if old != nil {
			_ = json.Unmarshal(old, &places) // an unreadable list starts again
		}
		for p, end := range places {
			if now.Sub(end) > MaxPause {
				delete(places, p)
			}
		}
		places[place] = until
		raw, err := json.Marshal(places)
		return raw, 2 * MaxPause, err
	})
}

// ErrNotPaused is Resume's answer for a place that is not paused.
var ErrNotPaused = errors.New("that place is not paused")

// Resume ends place's pause now, on an admin's word: a later pause
// starts at the first length again.
func (g *Guard) Resume(ctx context.Context, realm, place string) (Pause, error) {
	now := g.Now()
	var ended Pause
	err := g.Store.Update(ctx, pauseKey(realm, place), func(old []byte, _ bool) ([]byte, time.Duration, error) {
		p := decode(old)
		if !p.Active(now) {
			return nil, 0, ErrNotPaused
		}
		p.Until, p.ResumedBy = now, "admin"
		ended = *p
		raw, err := json.Marshal(p)
		return raw, MaxPause, err
	})
	if err != nil {
		return ended, err
	}
	if err := g.forget(ctx, realm, place, now); err != nil {
		return ended, err
	}
	return ended, g.list(ctx, realm, place, now)
}

// forget deletes place's counters of the sliding window at now.
func (g *Guard) forget(ctx context.Context, realm, place string, now time.Time) error {
	slot, _ := g.slot(now)
	var b store.Batch
	for _, s := range []int64{slot - 1, slot} {
		b.Delete(sentKey(realm, place, s))
		b.Delete(usedKey(realm, place, s))
		b.Delete(backKey(realm, place, s))
	}
	return store.Do(ctx, g.Store, &b)
}
