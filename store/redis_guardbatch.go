package store

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// A guarded batch on Redis (Guard, store.Do): its writes made in one
// script with the guard's checks, sent in the batch's pipeline, so in the
// round trip the batch costs anyway. Before, DoBatch sent them unguarded:
// a change whose first lasting write was a batch went through on a
// session ended between its check and its write (review36b F1).

// guardedBatchScript makes a guarded batch's writes: KEYS are the guard's
// records, then each write's (a claim's several); ARGV[1] is the number
// of groups G (the guard's checks, then one per write), ARGV[2..G+1] how
// many keys each holds, then six arguments a key as claimScript's. Where
// a record of the first group changed it writes nothing and returns {0};
// else each group is written where its records hold what was read (all
// of a claim's, or none), and it returns 1 a group written (the guard's,
// checked, is 1), 0 one not.
var guardedBatchScript = redis.NewScript(`
local G = tonumber(ARGV[1])
local function holds(i)
	local a = G + 6 * i - 5
	if ARGV[a + 6] == "w" then return true end
	local cur = redis.call("GET", KEYS[i])
	if ARGV[a + 1] == "1" then return cur == ARGV[a + 2] end
	return not cur
end
local function write(i)
	local a = G + 6 * i - 5
	if ARGV[a + 6] == "c" then
	elseif ARGV[a + 5] == "1" then
		redis.call("DEL", KEYS[i])
	elseif tonumber(ARGV[a + 3]) > 0 then
		redis.call("SET", KEYS[i], ARGV[a + 4], "PX", ARGV[a + 3])
	else
		redis.call("SET", KEYS[i], ARGV[a + 4])
	end
end
local res, first = {}, 1
for g = 1, G do
	local n, ok = tonumber(ARGV[1 + g]), true
	for i = first, first + n - 1 do
		if not holds(i) then ok = false; break end
	end
	if not ok and g == 1 then return {0} end
	if ok then
		for i = first, first + n - 1 do write(i) end
	end
	res[g] = ok and 1 or 0
	first = first + n
end
return res`)

// guardable says whether op is a write a guard guards (as the Store
// methods that check one: Put, Delete, Take, a Swap's Update, a claim).
func guardable(op *Op) bool {
	switch op.kind {
	case opPut, opDelete, opTake, opSwap, opClaim:
		return true
	}
	return false
}

// guardBatch is what DoBatch sends of ops under g: the operations that
// no guard concerns as they are, and the writes as one step
// (opGuardedBatch) after the guard's checks, in the one script. Where no
// script can (a Take's answer; a Cluster's keys over several slots),
// alone says to run ops one by one through the store's methods, each
// guarded as a write alone is (on a Cluster: checked just before it,
// claimInTurn). With g broken, the writes are refused without being sent.
func (r *Redis) guardBatch(g *Guard, ops []*Op) (sent []*Op, step *Op, alone bool) {
	var writes []*Op
	for _, op := range ops {
		if guardable(op) {
			writes = append(writes, op)
		} else {
			sent = append(sent, op)
		}
	}
	switch {
	case len(writes) == 0:
		return ops, nil, false
	case g.Broken():
		for _, w := range writes {
			w.OK, w.Err = false, ErrGuardBroken
		}
		return sent, nil, false
	}
	step = &Op{kind: opGuardedBatch, writes: writes}
	for _, rd := range g.current() {
		step.parts = append(step.parts, &Op{kind: opSwap, key: rd.key, old: rd.Value, found: rd.foundRecord(), check: true})
	}
	for _, w := range writes {
		switch w.kind {
		case opTake:
			return nil, nil, true
		case opPut, opDelete:
			value := w.value
			if w.kind == opPut && value == nil {
				value = []byte{} // a Put of nothing writes an empty record, as SET does
			}
			step.parts = append(step.parts, &Op{kind: opSwap, key: w.key, value: value, ttl: w.ttl, blind: true})
		case opSwap:
			step.parts = append(step.parts, w)
		case opClaim:
			step.parts = append(step.parts, w.parts...)
		}
	}
	if !r.inOneStep(step) {
		return nil, nil, true
	}
	return append(sent, step), step, false
}

// guardedBatchArgs are step's keys (prefixed) and guardedBatchScript's
// arguments.
func (r *Redis) guardedBatchArgs(step *Op) ([]string, []any) {
	keys, parts := r.claimArgs(step)
	args := make([]any, 0, 2+len(step.writes)+len(parts))
	args = append(args, 1+len(step.writes), len(step.parts)-len(step.flatWrites()))
	for _, w := range step.writes {
		if w.kind == opClaim {
			args = append(args, len(w.parts))
		} else {
			args = append(args, 1)
		}
	}
	return keys, append(args, parts...)
}

// flatWrites are the parts of step that its writes make.
func (step *Op) flatWrites() []*Op {
	n := 0
	for _, w := range step.writes {
		if w.kind == opClaim {
			n += len(w.parts)
		} else {
			n++
		}
	}
	return step.parts[len(step.parts)-n:]
}

// readGuardedBatch puts the script's answer res into step's writes: OK
// where written; step.OK says whether the guard held.
func readGuardedBatch(step *Op, res []int64, err error) {
	switch {
	case err != nil:
	case len(res) == 1 && res[0] == 0:
		err = ErrGuardBroken
	case len(res) != 1+len(step.writes):
		err = fmt.Errorf("redis store: unexpected answer %v to a guarded batch", res)
	}
	step.OK, step.Err = err == nil, err
	for i, w := range step.writes {
		w.OK, w.Err = err == nil && res[1+i] == 1, err
	}
}

// settleGuardedBatch records step's outcome in g: spent where a write
// was made, broken where the guard's records had changed; a write made of
// a record g read is what g holds from then on (Guard.wrote).
func settleGuardedBatch(g *Guard, step *Op) {
	wrote := false
	for _, w := range step.writes {
		wrote = wrote || w.OK
		if !w.OK || step.Err != nil {
			continue
		}
		switch w.kind {
		case opPut:
			g.wrote(w.key, w.value, true)
		case opDelete:
			g.wrote(w.key, nil, false)
		case opSwap:
			g.wrote(w.key, w.value, w.value != nil)
		case opClaim:
			for _, p := range w.parts {
				if !p.check {
					g.wrote(p.key, p.value, p.value != nil)
				}
			}
		}
	}
	_ = g.settle(wrote, step.Err)
}

// runAlone runs ops one by one through r's methods (guardBatch's alone),
// each with its own lasting wait.
func (r *Redis) runAlone(ctx context.Context, ops []*Op) { RunEach(ctx, r, ops) }
