package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"
)

// Batch is several operations on distinct keys, sent together: on Redis
// one round trip (a pipeline), on Badger one after another. Each operation
// is as atomic on its key as its Store method; the batch as a whole is not
// a transaction, and its operations run in no set order (so no key may be
// named twice), but for Slides of distinct events: several slots of one
// window taken at once, of which a full window refuses the same number
// whatever their order (or several given back: Unslides). Add operations,
// Do the batch, then read each Op.
type Batch struct{ ops []*Op }

// Op is one operation of a batch, and, once the batch is done, its result.
type Op struct {
	kind   opKind
	key    string
	value  []byte
	ttl    time.Duration
	id     string
	limit  int
	window time.Duration
	now    time.Time
	old    []byte      // a Swap's record as read, if found
	format countFormat // the count's format in the record a Counter read
	found  bool
	parts  []*Op // a claim's swaps
	writes []*Op // a guarded batch's writes (Redis: guardBatch)
	// check is a claim's part that compares its record and writes none
	// (a guard's: Guard.claimParts); blind one that writes its record
	// without comparing (a guarded Put or Delete).
	check, blind bool

	// Value is what a Get or a Take read, or the record a Counter read
	// (nil: none), for a Swap of it.
	Value []byte
	// N is an Incr's new count, a Counter's count (0 if missing), or the
	// events a Window counted.
	N int64
	// OK and Wait are a Slide's answer; OK is also whether a Swap wrote.
	// A Window's Wait is its oldest event's.
	OK   bool
	Wait time.Duration
	// Err is the operation's error: ErrNotFound for a Get or Take of a
	// missing key.
	Err error
}

type opKind uint8

const (
	opGet opKind = iota
	opPut
	opTake
	opDelete
	opIncr
	opSlide
	opUnslide
	opCounter
	opSwap
	opClaim
	opClearWindow
	opGuardedBatch // Redis's: a batch's writes under a guard, in one script
	opWindow       // a window read: Store.Window
)

func (b *Batch) add(op *Op) *Op { b.ops = append(b.ops, op); return op }

// Get adds a Store.Get.
func (b *Batch) Get(key string) *Op { return b.add(&Op{kind: opGet, key: key}) }

// Put adds a Store.Put.
func (b *Batch) Put(key string, value []byte, ttl time.Duration) *Op {
	return b.add(&Op{kind: opPut, key: key, value: value, ttl: ttl})
}

// PutIfAbsent adds a Store.PutIfAbsent: value written (with ttl) only
// where key holds no record; OK says whether it wrote. (A Swap against
// no record.)
func (b *Batch) PutIfAbsent(key string, value []byte, ttl time.Duration) *Op {
	return b.add(swapOp(key, nil, false, value, ttl))
}

// Take adds a Store.Take.
func (b *Batch) Take(key string) *Op { return b.add(&Op{kind: opTake, key: key}) }

// Delete adds a Store.Delete.
func (b *Batch) Delete(key string) *Op { return b.add(&Op{kind: opDelete, key: key}) }

// Incr adds a Store.Incr.
func (b *Batch) Incr(key string, ttl time.Duration) *Op {
	return b.add(&Op{kind: opIncr, key: key, ttl: ttl})
}

// Key is the record op names, for a store wrapper that looks at a
// claim's parts (only a test's does: enrollment's stallAfterCooldown).
func (op *Op) Key() string { return op.key }

// Slide adds a Store.Slide.
func (b *Batch) Slide(key, id string, limit int, window time.Duration, now time.Time) *Op {
	return b.add(&Op{kind: opSlide, key: key, id: id, limit: limit, window: window, now: now})
}

// Window adds a Store.Window: N is the count, Wait the oldest's wait.
func (b *Batch) Window(key string, span time.Duration, now time.Time) *Op {
	return b.add(&Op{kind: opWindow, key: key, window: span, now: now})
}

// Unslide adds a Store.Unslide.
func (b *Batch) Unslide(key, id string) *Op { return b.add(&Op{kind: opUnslide, key: key, id: id}) }

// ClearWindow adds a Store.ClearWindow.
func (b *Batch) ClearWindow(key string) *Op { return b.add(&Op{kind: opClearWindow, key: key}) }

// Counter adds a Store.Counter: a counter read without changing it.
func (b *Batch) Counter(key string) *Op { return b.add(&Op{kind: opCounter, key: key}) }

// Swap adds a compare-and-set of key: value is written (with ttl) only
// if the record still holds what read, a Get or a Counter of key in an
// earlier batch, found there (its value, or none). It is Store.Update's
// write with the read already made: a change decided on a record read a
// round trip before loses no other writer's change meanwhile, and costs
// no round trip of its own. OK says whether it wrote; a record changed since is
// left as it is (OK false, no error), for the caller to decide again on
// what it holds now. A nil value deletes the record (where it still holds
// what was read).
func (b *Batch) Swap(key string, read *Op, value []byte, ttl time.Duration) *Op {
	return b.add(swapOp(key, read.Value, read.foundRecord(), value, ttl))
}

// foundRecord reports whether read, a Get or a Counter, found a record: a
// missing counter reads as 0, with no error.
func (read *Op) foundRecord() bool {
	if read.kind == opCounter {
		return read.Err == nil && read.Value != nil
	}
	return read.Err == nil
}

// SwapCount adds a Swap that writes the count n (with ttl) where read, a
// Counter of key in an earlier batch, found a counter: in the format the
// read found it in (read.format), so that an Incr and a Counter read it
// as n. Where read found none it writes none (a Swap that deletes
// nothing): the same store work, with no record to follow.
func (b *Batch) SwapCount(key string, read *Op, n int64, ttl time.Duration) *Op {
	var value []byte
	if read.Value == nil {
		ttl = 0
	} else {
		value = read.format.record(n)
	}
	return b.Swap(key, read, value, ttl)
}

// SwapBack adds putting value (with ttl; nil: none) back at key where the
// caller wrote wrote (nil: deleted the record): only while the record
// still holds that write, so that what another writer wrote since stays.
// It is Swap against the caller's own write instead of a read (a send
// taken back, a claim's record given back).
func (b *Batch) SwapBack(key string, wrote, value []byte, ttl time.Duration) *Op {
	return b.add(swapOp(key, wrote, wrote != nil, value, ttl))
}

// swapOp is a compare-and-set of key: value (with ttl) written if the
// record holds old (found: there is one; else none is there).
func swapOp(key string, old []byte, found bool, value []byte, ttl time.Duration) *Op {
	return &Op{kind: opSwap, key: key, old: old, found: found, value: value, ttl: ttl}
}

// Batcher is a store that sends a batch in one round trip.
type Batcher interface {
	DoBatch(ctx context.Context, ops []*Op)
}

// Do runs the batch on s: in one round trip if s is a Batcher, else one
// operation after another. It returns the first error other than
// ErrNotFound (a fault: the store could not answer); each operation's own
// result is in its Op.
func Do(ctx context.Context, s Store, b *Batch) error {
	if len(b.ops) == 0 {
		return nil
	}
	keys := make([]string, 0, len(b.ops))
	owners := make([]*Op, 0, len(b.ops)) // by keys' place: the op that names it
	for _, op := range b.ops {
		keys = op.appendKeys(keys)
		for len(owners) < len(keys) {
			owners = append(owners, op)
		}
	}
	for i, k := range keys {
		for j, other := range keys[:i] {
			if other == k && !sideBySide(owners[i], owners[j]) {
				return fmt.Errorf("store: a batch names %q twice", k)
			}
		}
	}
	DoOps(ctx, s, b.ops)
	for _, op := range b.ops {
		if op.Err != nil && !errors.Is(op.Err, ErrNotFound) {
			return op.Err
		}
	}
	return nil
}

// sideBySide reports whether a and b, on one key, may be in one batch:
// Slides of distinct events, or Unslides.
func sideBySide(a, b *Op) bool {
	return a.kind == b.kind && (a.kind == opSlide || a.kind == opUnslide) && a.id != b.id
}

// run is op through s's own methods.
func (op *Op) run(ctx context.Context, s Store) {
	switch op.kind {
	case opGet:
		op.Value, op.Err = s.Get(ctx, op.key)
	case opPut:
		op.Err = s.Put(ctx, op.key, op.value, op.ttl)
	case opTake:
		op.Value, op.Err = s.Take(ctx, op.key)
	case opDelete:
		op.Err = s.Delete(ctx, op.key)
	case opIncr:
		op.N, op.Err = s.Incr(ctx, op.key, op.ttl)
	case opSlide:
		op.OK, op.Wait, op.Err = s.Slide(ctx, op.key, op.id, op.limit, op.window, op.now)
	case opUnslide:
		op.Err = s.Unslide(ctx, op.key, op.id)
	case opWindow:
		var n int
		n, op.Wait, op.Err = s.Window(ctx, op.key, op.window, op.now)
		op.N = int64(n)
	case opClearWindow:
		op.Err = s.ClearWindow(ctx, op.key)
	case opCounter:
		// The record (for a Swap), then its count: read from it where
		// the store knows how (a countReader: Badger's), else asked for
		// after it (a Swap against the record then writes nowhere it
		// changed since either was read).
		op.Value, op.Err = s.Get(ctx, op.key)
		switch cr, reads := s.(countReader); {
		case errors.Is(op.Err, ErrNotFound):
			op.Value, op.Err = nil, nil
		case op.Err != nil:
		case reads:
			op.format = cr.countFormat()
			op.N, op.Err = op.format.count(op.key, op.Value)
		default:
			if op.N, op.Err = s.Counter(ctx, op.key); op.Err == nil {
				op.format = formatOf(op.key, op.Value, op.N)
			}
		}
	case opSwap:
		op.Err = s.Update(ctx, op.key, func(cur []byte, found bool) ([]byte, time.Duration, error) {
			if op.OK = op.blind || found == op.found && bytes.Equal(cur, op.old); !op.OK || op.check {
				return nil, 0, ErrUnchanged
			}
			return op.value, op.ttl, nil
		})
		op.OK = op.OK && op.Err == nil // refused after it compared (a guard's)
	case opClaim:
		op.OK, op.Err = ClaimOn(ctx, s, op.parts)
	}
}
