// Package pumping is the guard against SMS pumping: many codes sent to
// numbers that never use them (premium or attacker-owned ranges), which
// costs the site money while every limit keyed to a user, an IP or a
// number is spread thin. It watches the conversion of codes — codes used ÷
// codes sent — per country and per number prefix over a sliding window,
// and when it collapses for one of them pauses new sends there, and only
// there, for a while (or until an admin resumes them). Numbers already
// enrolled there keep getting codes while their own codes are used.
//
// Its counters live in the store (shared by every instance on a shared
// store) and ride in the batches a send and a check already make: the
// guard adds no round trip to a sign-in, only one to the send that trips
// a pause.
package pumping

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/smsgate/caddy-smsgate/phone"
	"github.com/smsgate/caddy-smsgate/store"
)

// Settings are when the guard pauses a place, and for how long.
type Settings struct {
	// Window is the span conversion is measured over (sliding: the last
	// Window, weighted as the two fixed windows it spans).
	Window time.Duration
	// PrefixDigits is how many national digits, after the country code,
	// name a prefix (+44740 for +447400123456 with 3).
	PrefixDigits int
	// PrefixMinSends and CountryMinSends are the codes a prefix or a
	// country must have been sent in the window before its conversion is
	// judged: fewer say nothing.
	PrefixMinSends, CountryMinSends int
	// MinConversion is the share of codes used below which a place pauses.
	MinConversion float64
	// Pause is how long a first pause lasts; each further one of the same
	// place within a day doubles it, up to MaxPause.
	Pause time.Duration
	// Grace is how many codes in a row a number already enrolled in a
	// paused place may leave unused and still be sent codes (0: none is).
	Grace int
}

// Defaults are the settings when none are configured. Conversion of
// real sign-ins is high (most codes asked for are typed in); pumping's is
// near zero. 20 sends in an hour with fewer than one in five used is far
// from a site's own users, and lets at most 19 texts through to a range
// before it pauses.
var Defaults = Settings{Window: time.Hour, PrefixDigits: 3, PrefixMinSends: 20, CountryMinSends: 50,
	MinConversion: 0.2, Pause: time.Hour, Grace: 3}

// MaxPause bounds a pause that doubled.
const MaxPause = 24 * time.Hour

// Kinds of place.
const (
	Country = "country"
	Prefix  = "prefix"
)

// Guard pauses sends to places whose codes are not used.
type Guard struct {
	Settings
	Store store.Store
	Now   func() time.Time
	// Paused, if set, hears each pause the guard starts: once, on the
	// instance whose send started it (the admin's alarm).
	Paused func(realm string, p Pause)
}

// Pause is one place's pause, current or past (kept a day after its end,
// so that the next one is longer).
type Pause struct {
	// Place is a country ("GB") or a prefix ("+44740").
	Place string    `json:"place"`
	Kind  string    `json:"kind"`
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
	// Asked, Sent and Used are the window's codes when it began: asked
	// for (the send that began it among them, refused unless its number
	// was exempt), sent (as the admin's figures count them), used.
	Asked int64 `json:"asked,omitempty"`
	Sent  int64 `json:"sent"`
	Used  int64 `json:"used"`
	// Trips counts this place's pauses within a day, this one included.
	Trips int `json:"trips"`
	// ResumedBy is "admin" when an admin ended it early.
	ResumedBy string `json:"resumed_by,omitempty"`
}

// Active reports whether p still pauses sends at now.
func (p *Pause) Active(now time.Time) bool { return p != nil && now.Before(p.Until) }

// Refusal is a send the guard refused: its place is paused for Wait.
type Refusal struct {
	Place string
	Wait  time.Duration
}

// The records, under the realm: counters of codes sent and used per place
// and fixed window (and of sends given back: Watch.GiveBack), each place's
// pause, each number's codes unused in a row (by the number's keyed hash;
// and those given back, marked: Watch.Count), and the list of places
// paused.
func sentKey(realm, place string, slot int64) string {
	return store.Key("pumping", realm, "sent", place, strconv.FormatInt(slot, 10))
}
func usedKey(realm, place string, slot int64) string {
	return store.Key("pumping", realm, "used", place, strconv.FormatInt(slot, 10))
}
func backKey(realm, place string, slot int64) string {
	return store.Key("pumping", realm, "back", place, strconv.FormatInt(slot, 10))
}
func unusedBackKey(realm, numberID string) string {
	return store.Key("pumping", realm, "unused-given", numberID)
}

// oldBackKey is where the previous release kept a number's codes given
// back: a plain count, which it reads, and which this release reads and
// forgets but never counts on. Its marked records live under a key of
// their own (unusedBackKey), which the previous release does not read: a
// mark read as a count would make it take every code of the number's
// for one given back (going back a release, or an instance of it beside
// this one on a shared store during a rolling upgrade). Once no store
// holds one (30 days after the last instance of the previous release
// stopped), it can go.
func oldBackKey(realm, numberID string) string {
	return store.Key("pumping", realm, "unused-back", numberID)
}
func pauseKey(realm, place string) string     { return store.Key("pumping", realm, "pause", place) }
func unusedKey(realm, numberID string) string { return store.Key("pumping", realm, "unused", numberID) }
func indexKey(realm string) string            { return store.Key("pumping", realm, "pauses") }

// unusedMemory is how long a number's unused codes are remembered.
const unusedMemory = 30 * 24 * time.Hour

// decoyTTL is the life of a decoy's counters: it does the same store work
// as a real send, on keys of its own that keep nothing.
const decoyTTL = time.Millisecond

// places are the country and the prefix of e164 ("" prefix: none).
func (g *Guard) places(e164 string) [2]place {
	region, prefix := phone.Place(e164, g.PrefixDigits)
	return [2]place{{name: region, kind: Country}, {name: prefix, kind: Prefix}}
}

// slot is the fixed window now falls in, and how much of the one before
// still counts in the sliding window ending now.
func (g *Guard) slot(now time.Time) (slot int64, weight float64) {
	w := int64(cmp.Or(g.Window, Defaults.Window)) // a guard made only to list or resume
	slot = now.UnixNano() / w
	return slot, 1 - float64(now.UnixNano()-slot*w)/float64(w)
}

// counterTTL keeps a fixed window's counters while a sliding one needs them.
func (g *Guard) counterTTL() time.Duration { return 2*g.Window + time.Minute }

// Used adds, to the batch that consumes a right code for e164, the code's
// use: counted in its country and prefix, and the number's unused codes
// forgotten. A nil guard adds nothing.
func (g *Guard) Used(b *store.Batch, realm, e164, numberID string) {
	if g == nil || e164 == "" {
		return
	}
	slot, _ := g.slot(g.Now())
	for _, p := range g.places(e164) {
		if p.name != "" {
			b.Incr(usedKey(realm, p.name, slot), g.counterTTL())
		}
	}
	b.Delete(unusedKey(realm, numberID))
	b.Delete(unusedBackKey(realm, numberID))
	b.Delete(oldBackKey(realm, numberID))
}

// decode reads a pause record (nil when there is none or it is unreadable).
func decode(raw []byte) *Pause {
	var p Pause
	if raw == nil || json.Unmarshal(raw, &p) != nil {
		return nil
	}
	return &p
}

// Pauses lists realm's pauses, current and ended within a day, in one
// read of the list and one batch of the records.
func (g *Guard) Pauses(ctx context.Context, realm string) ([]Pause, error) {
	raw, err := g.Store.Get(ctx, indexKey(realm))
	if errors.Is(err, store.ErrNotFound) {
		return []Pause{}, nil
	}
	if err != nil {
		return nil, err
	}
	var places map[string]time.Time
	if err := json.Unmarshal(raw, &places); err != nil {
		return nil, err
	}
	var b store.Batch
	ops := make([]*store.Op, 0, len(places))
	for place := range places {
		ops = append(ops, b.Get(pauseKey(realm, place)))
	}
	if err := store.Do(ctx, g.Store, &b); err != nil {
		return nil, err
	}
	out := []Pause{}
	for _, op := range ops {
		if p := decode(op.Value); p != nil {
			out = append(out, *p)
		}
	}
	sortPauses(out, g.Now())
	return out, nil
}

// sortPauses puts the pauses in force first, then the latest.
func sortPauses(list []Pause, now time.Time) {
	slices.SortFunc(list, func(a, b Pause) int {
		if aa, ba := a.Active(now), b.Active(now); aa != ba {
			if aa {
				return -1
			}
			return 1
		}
		return b.Since.Compare(a.Since)
	})
}
