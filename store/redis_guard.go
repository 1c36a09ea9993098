package store

import (
	"bytes"
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// A guarded write on Redis (Guard): the write as a claim with the guard's
// records as its check-only parts, in one script on a server, in one
// round trip as the write alone (a Put's SET, an Update's swap).

// swap writes a record only if it still holds what was read (ARGV[1]
// says whether there was one, ARGV[2] is its value): a compare-and-set on
// one key, so it works on a cluster as on one server. ARGV[3] is the ttl
// in ms (0: none), ARGV[4] the new value; with ARGV[5] set, the record is
// deleted instead. It returns 1 when it wrote, 0 when the record changed.
var swap = redis.NewScript(`
local cur = redis.call("GET", KEYS[1])
if ARGV[1] == "1" then
	if cur ~= ARGV[2] then return 0 end
elseif cur then
	return 0
end
if ARGV[5] == "1" then
	redis.call("DEL", KEYS[1])
elseif tonumber(ARGV[3]) > 0 then
	redis.call("SET", KEYS[1], ARGV[4], "PX", ARGV[3])
else
	redis.call("SET", KEYS[1], ARGV[4])
end
return 1`)

// Update implements Store: a GET, then the change written by swap if the
// record is still what was read, else again — two round trips, as many
// as the GET and SET it replaces.
func (r *Redis) Update(ctx context.Context, key string, change func([]byte, bool) ([]byte, time.Duration, error)) error {
	ctx, done, err := spend(ctx)
	defer done()
	if err != nil {
		return err
	}
	k, g := r.key(key), guardOf(ctx)
	wrote := false
	err = retry(ctx, func() (bool, error) {
		old, err := r.client.Get(ctx, k).Bytes()
		found := err == nil
		if err != nil && !errors.Is(err, redis.Nil) {
			return false, err
		}
		value, ttl, err := change(old, found)
		switch {
		case errors.Is(err, ErrUnchanged):
			return true, nil
		case err != nil:
			return false, err
		case value == nil && !found:
			return true, nil
		}
		if g != nil { // the guard's records checked in the same script
			wrote, err = r.guarded(ctx, g, swapOp(key, old, found, value, ttl))
			return wrote || err != nil, err
		}
		var n int
		again(ctx, func() error { // sent once: redis_once.go
			n, err = r.runScript(ctx, onceOn{r.client}, swap, []string{k}, flag(found), old, millis(ttl), value, flag(value == nil)).Int()
			return err
		})
		wrote = n == 1
		return wrote, err
	})
	if !wrote {
		return err // nothing written (unchanged, or an error)
	}
	return r.lasting(ctx, err, key)
}

// guarded makes writes (swaps) only while g's records hold what they
// held, and reports whether it wrote: ErrGuardBroken where one changed;
// false, nil where a write's own record did (a swap lost, to read again).
// It calls no lasting wait: the caller does, as for the write alone.
func (r *Redis) guarded(ctx context.Context, g *Guard, writes ...*Op) (bool, error) {
	if g.Broken() {
		return false, ErrGuardBroken
	}
	parts, err := g.claimParts(writes...)
	if err != nil {
		return false, g.settle(false, err)
	}
	bare := WithGuard(ctx, nil) // the claim's own calls are not guarded again
	op := &Op{kind: opClaim, parts: parts}
	oneStep := r.inOneStep(op)
	if oneStep {
		r.one(bare, op)
	}
	if !oneStep || redis.IsTryAgainError(op.Err) {
		// Over several slots, or one mid-move, its records split between
		// two masters (TRYAGAIN, past go-redis's tries: the script was not
		// run): checked, then written in turn.
		op.OK, op.Err = r.checkThenClaim(bare, parts)
	}
	if op.Err == nil && !op.OK {
		blind := true
		for _, w := range writes {
			blind = blind && w.blind
		}
		// A blind write lost to the guard alone; a swap, read again.
		changed, err := blind, error(nil)
		if !blind {
			changed, err = g.changed(bare, r)
		}
		switch {
		case err != nil:
			op.Err = err
		case changed:
			op.Err = ErrGuardBroken
		}
	}
	if op.OK && op.Err == nil {
		for _, w := range writes {
			g.wrote(w.key, w.value, w.value != nil)
		}
	}
	return op.OK && op.Err == nil, g.settle(op.OK, op.Err)
}

// checkThenClaim is a guarded claim whose keys no script can hold (a
// Cluster's, over several slots): the guard's records (parts' check-only
// ones, first: claimParts) read in one round trip, side by side, then,
// where each still holds what the guard read, the writes claimed in turn
// (claimInTurn). A revocation landing between those reads and the write
// is not seen: the window SECURITY.md tells of (one round trip, and the
// write's own; before, the records were read one after another, a round
// trip each: TestAGuardOnAClusterChecksBeforeItsWrite).
func (r *Redis) checkThenClaim(ctx context.Context, parts []*Op) (bool, error) {
	n := 0
	for n < len(parts) && parts[n].check {
		n++
	}
	var b Batch
	now := make([]*Op, n)
	for i, p := range parts[:n] {
		now[i] = b.Get(p.key)
	}
	if err := Do(ctx, r, &b); err != nil {
		return false, err
	}
	for i, p := range parts[:n] {
		if now[i].foundRecord() != p.found || !bytes.Equal(now[i].Value, p.old) {
			return false, nil
		}
	}
	return claimInTurn(ctx, r, parts[n:])
}

// guardedPut is Put or Delete (value nil) under g, within the request's
// budget, with its lasting wait.
func (r *Redis) guardedPut(ctx context.Context, g *Guard, key string, value []byte, ttl time.Duration) error {
	ctx, done, err := spend(ctx)
	defer done()
	if err != nil {
		return err
	}
	_, err = r.guarded(ctx, g, &Op{kind: opSwap, key: key, value: value, ttl: ttl, blind: true})
	return r.lasting(ctx, err, key)
}

// guardedPutIfAbsent is PutIfAbsent under g.
func (r *Redis) guardedPutIfAbsent(ctx context.Context, g *Guard, key string, value []byte, ttl time.Duration) (bool, error) {
	ctx, done, err := spend(ctx)
	defer done()
	if err != nil {
		return false, err
	}
	wrote, err := r.guarded(ctx, g, swapOp(key, nil, false, value, ttl))
	if !wrote {
		return false, err
	}
	err = r.lasting(ctx, err, key)
	return err == nil, err
}

// guardedTake is Take under g: the record read, then deleted where it
// still holds that (Update's two round trips).
func (r *Redis) guardedTake(ctx context.Context, key string) ([]byte, error) {
	var val []byte
	err := r.Update(ctx, key, func(old []byte, found bool) ([]byte, time.Duration, error) {
		if !found {
			return nil, 0, ErrNotFound
		}
		val = old
		return nil, 0, nil
	})
	if err != nil {
		return nil, err
	}
	return val, nil
}
