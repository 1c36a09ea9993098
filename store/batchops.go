package store

import "context"

// What a store wrapper (a test's: sitetest.HoldStore) needs of a batch's
// operations to pass the batch whole to the store it wraps (Batcher),
// looking at what each did.

var opKinds = [...]string{
	opGet: "get", opPut: "put", opTake: "take", opDelete: "delete", opIncr: "incr",
	opSlide: "slide", opUnslide: "unslide", opCounter: "counter", opSwap: "swap",
	opClaim: "claim", opClearWindow: "clear-window", opGuardedBatch: "guarded-batch", opWindow: "window",
}

// Kind names op's operation: "get", "put", "take", "delete", "incr",
// "slide", "unslide", "counter", "swap" (a Swap, a PutIfAbsent), "claim",
// "clear-window", "window".
func (op *Op) Kind() string { return opKinds[op.kind] }

// Keys are the records op names: its own, or a claim's.
func (op *Op) Keys() []string { return op.appendKeys(nil) }

// DoOps runs ops, a batch's operations (a Batcher's DoBatch's), on s: as
// Do does, without Do's checks (made already).
func DoOps(ctx context.Context, s Store, ops []*Op) {
	if bs, ok := s.(Batcher); ok {
		bs.DoBatch(ctx, ops)
		return
	}
	RunEach(ctx, s, ops)
}

// RunEach runs each of ops through s's own methods, one after another.
func RunEach(ctx context.Context, s Store, ops []*Op) {
	for _, op := range ops {
		op.run(ctx, s)
	}
}
