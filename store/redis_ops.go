package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// The operations that a batch can hold, each as one Redis command: alone
// (the Store methods) or several in a pipeline (DoBatch), mapped to
// commands and their replies in one place.

// incr adds one and sets the expiry on a new counter, in one step.
var incr = redis.NewScript(`
local n = redis.call("INCR", KEYS[1])
if n == 1 and tonumber(ARGV[1]) > 0 then redis.call("PEXPIRE", KEYS[1], ARGV[1]) end
return n`)

// slide is a sliding window as a sorted set (event ID scored by its time
// in ms), trimmed, counted and added to in one atomic step. It returns
// {1, 0} when recorded, {0, wait ms} when refused. ARGV[5] is the
// window's start, exclusive ("(" and now minus the span).
//
// One key may be counted with several spans: two gates on one store with
// another window for one limit (`limit ip 3 1h` here, `limit ip 3 1m`
// there; the IP budgets are the store's, not a realm's). An
// event is kept as long as the longest span that counts it — kept, the
// member "~keep" scored minus that span in ms — so that trimming by a
// short window never hides from a long one the events it counts (before:
// one send through the 1-minute gate emptied the hour's window of the
// other, which then let its count through again every minute).
//
// A window the previous release wrote holds events but no "~keep", and
// a first count through a short window would trim it by that span alone.
// Such a window keeps every event it holds until it would have expired
// then (its PTTL: the previous release set it to the span of each event
// it added): the member "~until" scored minus that time in ms, trimming
// nothing before it, so an upgrade loses no event a long window counts.
//
// That mending is paid for at a window's first touch only: one ZMSCORE
// reads "~keep" and "~until" together, and only a window without "~keep"
// (the previous release's, or a new key) is asked its PTTL; the key's
// expiry is set without asking it, but while "~until" holds (a mended
// window's old expiry may be the longer). Before, every count asked
// ZSCORE twice and PTTL twice (BenchmarkRedisSlide: docs/BENCHMARKS.md).
//
// The same ZMSCORE asks for the event's own ID: one already counted is
// this call's, sent again by go-redis after a connection lost with it
// (redis_once.go), and answers as the first send did — counted — not
// refused by its own event in a full window.
var slide = redis.NewScript(`
local now, span, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if limit < 1 then return {0, span} end
local marks = redis.call("ZMSCORE", KEYS[1], "~keep", "~until", ARGV[4])
if marks[3] then return {1, 0} end
local kept, untl = tonumber(marks[1]), tonumber(marks[2])
if not kept then
	local ttl = redis.call("PTTL", KEYS[1])
	if ttl > 0 then untl = -(now + ttl); redis.call("ZADD", KEYS[1], untl, "~until") end
end
kept = -(kept or 0)
local keep = math.max(span, kept)
if untl and now >= -untl then redis.call("ZREM", KEYS[1], "~until"); untl = nil end
if not untl then redis.call("ZREMRANGEBYSCORE", KEYS[1], 0, now - keep) end
local ok = redis.call("ZCOUNT", KEYS[1], ARGV[5], "+inf") < limit
if ok then redis.call("ZADD", KEYS[1], now, ARGV[4]) end
if keep > kept then redis.call("ZADD", KEYS[1], -keep, "~keep") end
if (ok or keep > kept) and (not untl or redis.call("PTTL", KEYS[1]) < keep) then redis.call("PEXPIRE", KEYS[1], keep) end
if ok then return {1, 0} end
local oldest = redis.call("ZREVRANGEBYSCORE", KEYS[1], "+inf", ARGV[5], "WITHSCORES", "LIMIT", limit - 1, 1)
return {0, tonumber(oldest[2]) + span - now}`)

// send issues op on c: at once on the client, queued on a pipeline. A
// script goes as EVALSHA (its hash, not its text); alone, runScript loads
// the scripts again where the server does not know it.
func (r *Redis) send(ctx context.Context, c processor, op *Op, alone bool) redis.Cmder {
	key, sc := r.key(op.key), redis.Scripter(c)
	if sentOnce(op) {
		sc = onceOn{c} // not sent again after a lost connection (redis_once.go)
	}
	script := func(s *redis.Script, args ...any) redis.Cmder {
		if alone {
			return r.runScript(ctx, sc, s, []string{key}, args...)
		}
		return s.EvalSha(ctx, sc, []string{key}, args...)
	}
	switch op.kind {
	case opGet, opCounter:
		return c.Get(ctx, key)
	case opPut:
		return setOnce(ctx, c, key, op.value, op.ttl, false)
	case opTake:
		return getDelOnce(ctx, c, key)
	case opDelete, opClearWindow: // a window is a sorted set at its key
		return delOnce(ctx, c, key)
	case opIncr:
		return script(incr, op.ttl.Milliseconds())
	case opUnslide:
		return c.ZRem(ctx, key, op.id)
	case opSwap:
		return script(swap, flag(op.found), op.old, millis(op.ttl), op.value, flag(op.value == nil))
	case opClaim, opGuardedBatch:
		s, keys, args := claimScript, []string(nil), []any(nil)
		if op.kind == opClaim {
			keys, args = r.claimArgs(op)
		} else {
			s = guardedBatchScript
			keys, args = r.guardedBatchArgs(op)
		}
		if alone {
			return r.runScript(ctx, sc, s, keys, args...)
		}
		return s.EvalSha(ctx, sc, keys, args...)
	case opWindow:
		return script(windowCount, windowCountArgs(op)...)
	default:
		now, span := op.now.UnixMilli(), op.window.Milliseconds()
		return script(slide, now, span, op.limit, op.id, "("+strconv.FormatInt(now-span, 10))
	}
}

// read puts cmd's reply into op.
func (r *Redis) read(op *Op, cmd redis.Cmder) {
	switch c := cmd.(type) {
	case *redis.StringCmd: // Get, Take, Counter
		if op.kind == opCounter {
			switch v, err := c.Bytes(); {
			case errors.Is(err, redis.Nil):
			case err != nil:
				op.Err = err
			default: // the record too, for a Swap
				op.Value, op.format = v, decimalCount
				op.N, op.Err = op.format.count(op.key, v)
			}
			return
		}
		op.Value, op.Err = c.Bytes()
		if errors.Is(op.Err, redis.Nil) {
			op.Value, op.Err = nil, ErrNotFound
		}
	case *redis.Cmd: // a script
		switch op.kind {
		case opIncr:
			op.N, op.Err = c.Int64()
			return
		case opSwap, opClaim:
			n, err := c.Int64()
			op.OK, op.Err = n == 1, err
			return
		case opGuardedBatch:
			res, err := c.Int64Slice()
			readGuardedBatch(op, res, err)
			return
		case opWindow:
			readWindowCount(op, c)
			return
		}
		res, err := c.Int64Slice()
		switch {
		case err != nil:
			op.Err = err
		case len(res) != 2:
			op.Err = fmt.Errorf("redis store: unexpected answer %v to a sliding window", res)
		default:
			op.OK, op.Wait = res[0] == 1, time.Duration(res[1])*time.Millisecond
		}
	default: // Put, Delete, Unslide, ClearWindow
		op.Err = cmd.Err()
	}
}

// one runs op alone; one sent once, again where it never ran (again).
func (r *Redis) one(ctx context.Context, op *Op) *Op {
	var cmd redis.Cmder
	send := func() error { cmd = r.send(ctx, r.client, op, true); return cmd.Err() }
	if !sentOnce(op) {
		_ = send()
	} else {
		again(ctx, send)
	}
	r.read(op, cmd)
	return op
}

// alone runs op alone, within its request's budget (spend), then what
// after(ctx, op) does in the same budget (a lasting write's WAIT).
func (r *Redis) alone(ctx context.Context, op *Op, after func(context.Context, *Op)) *Op {
	ctx, done, err := spend(ctx)
	defer done()
	if err != nil {
		op.Err = err
		return op
	}
	r.one(ctx, op)
	if after != nil {
		after(ctx, op)
	}
	return op
}

// lastingOp is alone's after for a write the user is told about.
func (r *Redis) lastingOp(ctx context.Context, op *Op) { op.Err = r.lasting(ctx, op.Err, op.key) }

// DoBatch implements Batcher: the operations go in one pipeline (on a
// cluster, one per node, sent side by side). A script the server does not
// know (a new server, a failover, a flushed cache) is sent again alone,
// which loads it, and so is a read or a window's count whose connection
// was lost (the same made twice).
func (r *Redis) DoBatch(ctx context.Context, ops []*Op) {
	ctx, done, err := spend(ctx)
	defer done()
	if err != nil {
		for _, op := range ops {
			op.Err = err
		}
		return
	}
	g, run, step := guardOf(ctx), ops, (*Op)(nil)
	if g != nil {
		alone := false
		if run, step, alone = r.guardBatch(g, ops); alone {
			r.runAlone(ctx, ops)
			return
		}
	}
	sent, split := r.sendable(run)
	cmds, sentAt := make([]redis.Cmder, len(sent)), time.Now()
	r.pipelined(ctx, sent, cmds)
	alone := r.sentAlone(ctx, sent, cmds, sentAt)
	for i, op := range sent {
		if alone[i] {
			r.one(ctx, op)
		} else {
			r.read(op, cmds[i])
		}
		if op.kind == opClaim && redis.IsTryAgainError(op.Err) {
			// A Cluster's slot midway through a move, its records split
			// between the two masters (TRYAGAIN; its pipeline not sent again,
			// as it holds a command that goes once: redis_once.go, where the
			// commands after it were made twice,
			// TestATryAgainInABatchMakesNothingTwice): made in turn, as a
			// claim over several slots is.
			op.OK, op.Err = claimInTurn(ctx, r, op.parts)
		}
	}
	r.settleClaims(ctx, split)
	var madeAlone []*Op
	if step != nil && redis.IsTryAgainError(step.Err) {
		// The same on a guarded batch's script (nothing written): its
		// writes made alone, each guarded as on a Cluster's several slots
		// (guarded: checkThenClaim), each with its own lasting wait.
		madeAlone, step = step.writes, nil
		r.runAlone(ctx, madeAlone)
	}
	if step != nil {
		settleGuardedBatch(g, step)
	}
	if !IsLasting(ctx) {
		return
	}
	var written []*Op
	var keys []string
	for _, op := range ops {
		if op.kind != opGet && op.kind != opCounter && op.kind != opWindow && op.Err == nil && !slices.Contains(madeAlone, op) {
			written, keys = append(written, op), op.appendKeys(keys)
		}
	}
	if len(written) > 0 {
		if err := r.lasting(ctx, nil, keys...); err != nil {
			for _, op := range written {
				op.Err = err
			}
		}
	}
}

// Get implements Store.
func (r *Redis) Get(ctx context.Context, key string) ([]byte, error) {
	op := r.alone(ctx, &Op{kind: opGet, key: key}, nil)
	return op.Value, op.Err
}

// Put implements Store.
func (r *Redis) Put(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if g := guardOf(ctx); g != nil {
		return r.guardedPut(ctx, g, key, value, ttl)
	}
	return r.alone(ctx, &Op{kind: opPut, key: key, value: value, ttl: ttl}, r.lastingOp).Err
}

// PutAll implements AllOrNothing: MULTI/EXEC, which a full server refuses
// whole (EXECABORT, or OOM at EXEC), never part of it. A Cluster's keys
// span masters, where one transaction cannot hold them: ErrNoTransaction.
// The records of read are a GET each in the transaction, before the SETs.
func (r *Redis) PutAll(ctx context.Context, records map[string][]byte, read ...string) (map[string][]byte, error) {
	if _, ok := r.client.(*redis.ClusterClient); ok {
		return nil, ErrNoTransaction
	}
	ctx, done, err := spend(ctx)
	defer done()
	if err != nil {
		return nil, err
	}
	keys, gets := make([]string, 0, len(records)), make([]*redis.StringCmd, len(read))
	cmds, err := r.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range read {
			gets[i] = p.Get(ctx, r.key(k))
		}
		for k, v := range records {
			p.Set(ctx, r.key(k), v, 0)
			keys = append(keys, k)
		}
		return nil
	})
	if errors.Is(err, redis.Nil) { // a GET of none: the first fault, if any, is another command's
		err = nil
		for _, c := range cmds {
			if c.Err() != nil && !errors.Is(c.Err(), redis.Nil) {
				err = c.Err()
				break
			}
		}
	}
	held := map[string][]byte{}
	for i, g := range gets {
		if v, e := g.Bytes(); e == nil && err == nil {
			held[read[i]] = v
		}
	}
	return held, r.lasting(ctx, err, keys...)
}

// Take implements Store (GETDEL).
func (r *Redis) Take(ctx context.Context, key string) ([]byte, error) {
	if guardOf(ctx) != nil {
		return r.guardedTake(ctx, key)
	}
	op := r.alone(ctx, &Op{kind: opTake, key: key}, r.lastingOp)
	return op.Value, op.Err
}

// Delete implements Store.
func (r *Redis) Delete(ctx context.Context, key string) error {
	if g := guardOf(ctx); g != nil {
		return r.guardedPut(ctx, g, key, nil, 0)
	}
	return r.alone(ctx, &Op{kind: opDelete, key: key}, r.lastingOp).Err
}

// ClearWindow implements Store.
func (r *Redis) ClearWindow(ctx context.Context, key string) error {
	return r.alone(ctx, &Op{kind: opClearWindow, key: key}, r.lastingOp).Err
}

// Incr implements Store.
func (r *Redis) Incr(ctx context.Context, key string, ttl time.Duration) (int64, error) {
	op := r.alone(ctx, &Op{kind: opIncr, key: key, ttl: ttl}, nil)
	return op.N, op.Err
}

// Slide implements Store.
func (r *Redis) Slide(ctx context.Context, key, id string, limit int, window time.Duration, now time.Time) (bool, time.Duration, error) {
	op := r.alone(ctx, &Op{kind: opSlide, key: key, id: id, limit: limit, window: window, now: now}, nil)
	return op.OK, op.Wait, op.Err
}

// Unslide implements Store.
func (r *Redis) Unslide(ctx context.Context, key, id string) error {
	return r.alone(ctx, &Op{kind: opUnslide, key: key, id: id}, nil).Err
}
