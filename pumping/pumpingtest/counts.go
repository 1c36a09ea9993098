// Package pumpingtest reads what the pumping guard counts, for the tests
// of what a send counted (enrollment's): through the store, on the
// guard's own records, weighed as a send's Judge weighs them. pumping's
// TestCountsReadsWhatASendCounted keeps it the guard's reading: a reader
// of the wrong keys would have those tests pass testing nothing.
package pumpingtest

import (
	"cmp"
	"context"
	"strconv"

	"github.com/smsgate/caddy-smsgate/phone"
	"github.com/smsgate/caddy-smsgate/pumping"
	"github.com/smsgate/caddy-smsgate/store"
)

// Counts is what g counts for e164 now: the codes sent to its country and
// to its prefix in the sliding window, those given back aside; and the
// codes in a row the number (numberID, its keyed hash) left unused, those
// given back aside (the previous release's too).
func Counts(ctx context.Context, g *pumping.Guard, realm, e164, numberID string) (sent [2]float64, unused int64, err error) {
	w := int64(cmp.Or(g.Window, pumping.Defaults.Window))
	now := g.Now().UnixNano()
	slot := now / w
	weight := 1 - float64(now-slot*w)/float64(w) // of the fixed window before
	key := func(kind, name string) string { return store.Key("pumping", realm, kind, name) }
	slotted := func(kind, place string, slot int64) string {
		return store.Key("pumping", realm, kind, place, strconv.FormatInt(slot, 10))
	}
	region, prefix := phone.Place(e164, g.PrefixDigits)
	var b store.Batch
	var counters [2][4]*store.Op // each place's sent and given back, in the window before and this one
	for i, place := range []string{region, prefix} {
		if place != "" {
			counters[i] = [4]*store.Op{b.Counter(slotted("sent", place, slot-1)), b.Counter(slotted("back", place, slot-1)),
				b.Counter(slotted("sent", place, slot)), b.Counter(slotted("back", place, slot))}
		}
	}
	n, back, oldBack := b.Counter(key("unused", numberID)), b.Counter(key("unused-given", numberID)), b.Counter(key("unused-back", numberID))
	if err := store.Do(ctx, g.Store, &b); err != nil {
		return sent, 0, err
	}
	for i, c := range counters {
		if c[0] != nil {
			sent[i] = float64(max(c[0].N-c[1].N, 0))*weight + float64(max(c[2].N-c[3].N, 0))
		}
	}
	givenBack := func(n int64) int64 { return n & (1<<32 - 1) } // its low 32 bits: above them, a mark
	return sent, max(n.N-givenBack(back.N)-givenBack(oldBack.N), 0), nil
}
