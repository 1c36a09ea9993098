package session

// Writing many devices' ends at once: an import's (KeepLaterDeviceEnds)
// and a gate's put-back of the ends its revocation log holds, each kept
// only where the store holds none as late (the later removal wins).

import (
	"cmp"
	"context"
	"encoding/json"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
)

// KeepLaterDeviceEnds writes each of ends, a device's end an import
// carries (Key: endkeys.Device, Value as stored), unless the store holds
// one as late or later (as againAt: the later removal wins), a batch
// of DeviceEndsABatch at a time, each with a request's store budget of
// its own, and answers how many it wrote that told took (one whose told
// failed is not counted, nor are the rest of its batch, written all the
// same). Once a batch is done, told (nil: none) is called with each of
// its ends and what it did with it: written, held as it is (the same
// removal's: EndHeld) or left, which the import announces or not by the
// rule of every end it carries (EndKept). told's error stops the import. An unreadable value is not written (the import
// checked it); of one key named twice, the later end only.
func KeepLaterDeviceEnds(ctx context.Context, st store.Store, ends []StoredEnd, now time.Time, told func(StoredEnd, EndKept) error) (wrote int, err error) {
	keyed := make([]keyedEnd, len(ends))
	for i, r := range ends {
		parts, ok := store.SplitKey(r.Key)
		var e deviceEnd
		if ok && len(parts) == 4 && json.Unmarshal(r.Value, &e) == nil {
			keyed[i] = keyedEnd{r.Key, e}
		}
	}
	err = keepLaterDeviceEnds(store.Lasting(ctx), st, keyed, now, store.RequestTime(), false, func(i int, k EndKept) error {
		if told != nil {
			if err := told(ends[i], k); err != nil {
				return err
			}
		}
		if k == EndWritten {
			wrote++
		}
		return nil
	})
	return wrote, err
}

// StoredEnd is a device's end as stored: its key and value.
type StoredEnd struct {
	Key   string
	Value []byte
}

// keyedEnd is a device's end to keep at its key ("": none).
type keyedEnd struct {
	key string
	end deviceEnd
}

// EndKept is what an import did with an end it carries (a user's
// revocation, a session's, a trust's or a device's end). The rule of
// every kind: it announces (AnnounceEnd) one it wrote and one the store
// holds as the file has it (the same revocation, removal or end: EndHeld),
// never one the store holds ending later (EndLeft: what wrote that
// announced it). One held as it is was written by an import that then
// failed before announcing it (the store gone meanwhile, a lost reply):
// the same import run again announces it, where before it found it "as
// late" and said nothing, and a gate that had cached a session it ends
// served it until its cache entry went.
type EndKept uint8

const (
	EndLeft    EndKept = iota // not written: the store holds one ending later, or it is over
	EndWritten                // written
	EndHeld                   // not written: the store holds it as the file has it
)

// keepLaterDeviceEnds is keepAt for each of ends, in two round trips
// a batch of DeviceEndsABatch (with budget of store time each, where
// given): their records read, then those to write swapped in where they
// still hold what was read (store.Batch.Swap); one changed meanwhile is
// decided again in an Update of its own (keepAt). Of one key named twice,
// the later end goes in the batch. Once a batch is written, done (nil:
// none) is called with each of its ends (its place in ends) and what the
// batch did with it; its error stops the run. A batch the store failed
// stops it too, with that failure (the others of the batch are still
// written, and told to done); with every, each batch is tried all the
// same (a gate's put-back: Manager.putBack), and the last failure told.
func keepLaterDeviceEnds(ctx context.Context, st store.Store, ends []keyedEnd, now time.Time, budget time.Duration, every bool, done func(int, EndKept) error) error {
	var last error
	for from := 0; from < len(ends); from += DeviceEndsABatch {
		chunk := ends[from:min(from+DeviceEndsABatch, len(ends))]
		bctx := ctx
		if budget > 0 {
			bctx = store.WithBudget(ctx, budget)
		}
		kept, failed := keepDeviceEndsBatch(bctx, st, chunk, now)
		for i, k := range kept {
			if done != nil {
				if err := done(from+i, k); err != nil {
					return err
				}
			}
		}
		if failed != nil && !every {
			return failed
		}
		last = cmp.Or(failed, last)
	}
	return last
}

// keepDeviceEndsBatch is one batch of keepLaterDeviceEnds: what it did
// with each of ends.
func keepDeviceEndsBatch(ctx context.Context, st store.Store, ends []keyedEnd, now time.Time) (kept []EndKept, err error) {
	kept = make([]EndKept, len(ends))
	latest := map[string]int{} // a key's place in ends: one batch names a key once
	for i, e := range ends {
		if j, seen := latest[e.key]; e.key != "" && e.end.ttl(now) > 0 && (!seen || e.end.At.After(ends[j].end.At)) {
			latest[e.key] = i
		}
	}
	var reads, writes store.Batch
	got := make(map[int]*store.Op, len(latest))
	for _, i := range latest {
		got[i] = reads.Get(ends[i].key)
	}
	if err := store.Do(ctx, st, &reads); err != nil {
		return kept, err
	}
	swaps := make(map[int]*store.Op, len(got))
	for i, read := range got {
		switch e := ends[i].end; {
		case e.laterThan(read.Value, read.Err == nil):
			swaps[i] = writes.Swap(ends[i].key, read, e.record(), e.ttl(now))
		case e.heldIn(read.Value):
			kept[i] = EndHeld
		}
	}
	failed := store.Do(ctx, st, &writes)
	for i, op := range swaps {
		if op.OK {
			kept[i] = EndWritten
		} else if failed == nil { // changed since it was read
			w, err := ends[i].end.keepAt(ctx, st, ends[i].key, now)
			if failed = err; w {
				kept[i] = EndWritten
			}
		}
	}
	return kept, failed
}

// heldIn reports whether held, a device's end read from the store, is e
// (the same removal's).
func (e deviceEnd) heldIn(held []byte) bool {
	var h deviceEnd
	return json.Unmarshal(held, &h) == nil && h.At.Equal(e.At)
}

// DeviceEndsABatch is how many device ends keepLaterDeviceEnds writes a
// round trip.
const DeviceEndsABatch = 500
