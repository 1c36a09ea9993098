package store

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/redis/go-redis/v9"
)

// A claim is several compare-and-sets (Batch.Swap) as one: every record
// is written only if each still holds what its read found, else none is.
// Where one Swap serializes the writers of one record, a claim serializes
// the writers of any of its records: two that share one cannot both win,
// and the loser wrote none of its others.
//
// Badger makes it one transaction; a Redis server one script over all its
// keys. A Redis Cluster runs a script only over keys of one slot, and a
// claim's keys are named by what they count (a name, a number) and so
// hash anywhere: there, and on a store that claims nothing itself (a
// wrapper), it is made in turn (claimInTurn) — each record swapped, in
// key order, and those won given back when one is lost. Of writers
// sharing a record, one swap wins it, so no two claims that share one both
// win either way; made in turn, one that loses may for a moment have held
// another record it gives back (a writer reading it then is refused as if
// the claim had won: fewer writes, never more).

// Swap is one record of a claim (Batch.Claim): Value (with TTL) is written
// at Key if it still holds what Read, a Get of Key in an earlier batch,
// found there.
type Swap struct {
	Key   string
	Read  *Op
	Value []byte
	TTL   time.Duration
}

// Claimer is a store that makes a claim in one atomic step.
type Claimer interface {
	// Claim writes every part's value only if each part's record still
	// holds what it read (parts are Swap operations, from Batch.Claim),
	// and says whether it did.
	Claim(ctx context.Context, parts []*Op) (bool, error)
}

// Claim adds a claim of the records of swaps (distinct keys, one at
// least): OK says whether they were all written; if not, none was (no
// error: another writer changed one since its read), for the caller to
// decide again on what they hold now.
func (b *Batch) Claim(swaps ...Swap) *Op {
	op := &Op{kind: opClaim}
	for _, s := range swaps {
		op.parts = append(op.parts, &Op{kind: opSwap, key: s.Key, old: s.Read.Value, found: s.Read.Err == nil, value: s.Value, ttl: s.TTL})
	}
	slices.SortFunc(op.parts, func(a, b *Op) int { return strings.Compare(a.key, b.key) })
	return b.add(op)
}

// keys are the records op names: its own, or a claim's.
func (op *Op) keys() []string {
	if op.kind != opClaim {
		return []string{op.key}
	}
	keys := make([]string, len(op.parts))
	for i, p := range op.parts {
		keys[i] = p.key
	}
	return keys
}

// ClaimOn makes a claim on s: in one step where s is a Claimer, else in
// turn. A store wrapper that is a Claimer forwards its claims here.
func ClaimOn(ctx context.Context, s Store, parts []*Op) (bool, error) {
	if c, ok := s.(Claimer); ok {
		return c.Claim(ctx, parts)
	}
	return claimInTurn(ctx, s, parts)
}

// claimInTurn swaps each part's record in key order; at the first lost,
// it gives back those it won (each only while it still holds what the
// claim wrote: what was read is put back, with the claim's ttl, as the
// record's own is not known) and says false.
func claimInTurn(ctx context.Context, s Store, parts []*Op) (bool, error) {
	for i, p := range parts {
		p.run(ctx, s)
		if p.Err == nil && p.OK {
			continue
		}
		for _, won := range parts[:i] {
			_ = s.Update(ctx, won.key, func(cur []byte, found bool) ([]byte, time.Duration, error) {
				if !found || !bytes.Equal(cur, won.value) {
					return nil, 0, ErrUnchanged
				}
				if !won.found {
					return nil, 0, nil
				}
				return won.old, won.ttl, nil
			})
		}
		return false, p.Err
	}
	return true, nil
}

// claim writes every part in one transaction, if each record holds what
// its part read.
func (b *badgerDB) claim(ctx context.Context, parts []*Op) (bool, error) {
	won := false
	err := b.update(ctx, func(txn *badger.Txn) error {
		won = false
		for _, p := range parts {
			item, err := txn.Get([]byte(p.key))
			found := err == nil
			var cur []byte
			switch {
			case found:
				if cur, err = item.ValueCopy(nil); err != nil {
					return err
				}
			case !errors.Is(err, badger.ErrKeyNotFound):
				return err
			}
			if found != p.found || !bytes.Equal(cur, p.old) {
				return nil
			}
		}
		for _, p := range parts {
			if err := txn.SetEntry(entry(p.key, p.value, p.ttl)); err != nil {
				return err
			}
		}
		won = true
		return nil
	})
	if won {
		err = b.synced(ctx, err)
	}
	return won && err == nil, err
}

// Claim implements Claimer.
func (b *badgerDB) Claim(ctx context.Context, parts []*Op) (bool, error) { return b.claim(ctx, parts) }

// Claim implements Claimer.
func (b *Badger) Claim(ctx context.Context, parts []*Op) (bool, error) { return b.db.claim(ctx, parts) }

// claimScript is swap over several keys: for KEYS[i], ARGV[4i-3] says
// whether there was a record, ARGV[4i-2] is its value, ARGV[4i-1] the
// ttl in ms (0: none) and ARGV[4i] the new value. It returns 1 when it
// wrote them all, 0 when one had changed (and wrote none).
var claimScript = redis.NewScript(`
for i, k in ipairs(KEYS) do
	local cur, a = redis.call("GET", k), 4 * i - 4
	if ARGV[a + 1] == "1" then
		if cur ~= ARGV[a + 2] then return 0 end
	elseif cur then
		return 0
	end
end
for i, k in ipairs(KEYS) do
	local a = 4 * i - 4
	if tonumber(ARGV[a + 3]) > 0 then
		redis.call("SET", k, ARGV[a + 4], "PX", ARGV[a + 3])
	else
		redis.call("SET", k, ARGV[a + 4])
	end
end
return 1`)

// claimArgs are op's keys (prefixed) and claimScript's arguments.
func (r *Redis) claimArgs(op *Op) ([]string, []any) {
	keys, args := make([]string, len(op.parts)), make([]any, 0, 4*len(op.parts))
	for i, p := range op.parts {
		keys[i] = r.key(p.key)
		args = append(args, flag(p.found), p.old, millis(p.ttl), p.value)
	}
	return keys, args
}

// inOneStep says whether a Redis script can claim op's records: on a
// server, always; on a Cluster, when they are in one slot.
func (r *Redis) inOneStep(op *Op) bool {
	if _, ok := r.client.(*redis.ClusterClient); !ok {
		return true
	}
	keys, _ := r.claimArgs(op)
	for _, k := range keys[1:] {
		if slotOf(k) != slotOf(keys[0]) {
			return false
		}
	}
	return true
}

// Claim implements Claimer: one script, or in turn on a Cluster whose
// slots the records span.
func (r *Redis) Claim(ctx context.Context, parts []*Op) (bool, error) {
	op := &Op{kind: opClaim, parts: parts}
	if !r.inOneStep(op) {
		return claimInTurn(ctx, r, parts)
	}
	return r.alone(ctx, op, nil).OK, op.Err
}

// claimApart makes the claims among ops that a script cannot (a Cluster's
// over several slots) in turn, each in a budget of its own, and returns
// the other operations, for one pipeline.
func (r *Redis) claimApart(ctx context.Context, ops []*Op) []*Op {
	rest := ops[:0:0]
	for _, op := range ops {
		if op.kind == opClaim && !r.inOneStep(op) {
			op.OK, op.Err = claimInTurn(ctx, r, op.parts)
			continue
		}
		rest = append(rest, op)
	}
	return rest
}
