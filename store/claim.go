package store

import (
	"bytes"
	"context"
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
// hash anywhere (hash tags would put one name's records and one number's
// in one slot, but a name's and its number's only by naming every record
// after one of them: keys no previous release wrote, for a claim's sake).
// There its swaps go side by side in the batch's pipeline, and a claim
// that won some and lost others gives back those it won and is made again
// in turn (settleClaims); on a store that claims nothing itself (a
// wrapper) it is made in turn, in key order (claimInTurn), and so is a
// claim in one slot whose records a move of the slot split between two
// masters (TRYAGAIN: DoBatch). Of writers sharing a record, one swap wins
// it, so no two claims that share one both win either way. Made in swaps,
// a claim that loses may for a moment
// have held a record it gives back: a writer reading it then is refused
// as if the claim had won — fewer writes, never more.

// Swap is one record of a claim (Batch.Claim): Value (with TTL) is written
// at Key if it still holds what Read, a Get or a Counter of Key in an
// earlier batch, found there.
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
		op.parts = append(op.parts, swapOp(s.Key, s.Read.Value, s.Read.foundRecord(), s.Value, s.TTL))
	}
	slices.SortFunc(op.parts, func(a, b *Op) int { return strings.Compare(a.key, b.key) })
	return b.add(op)
}

// appendKeys appends to keys the records op names: its own, or a claim's.
func (op *Op) appendKeys(keys []string) []string {
	if op.kind != opClaim {
		return append(keys, op.key)
	}
	for _, p := range op.parts {
		keys = append(keys, p.key)
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
// it gives back those it won (giveBack) and says false.
func claimInTurn(ctx context.Context, s Store, parts []*Op) (bool, error) {
	for i, p := range parts {
		p.run(ctx, s)
		if p.Err == nil && p.OK {
			continue
		}
		giveBack(ctx, s, parts[:i])
		return false, p.Err
	}
	return true, nil
}

// giveBack puts back the records of the parts whose swap won, in one
// batch (Batch.SwapBack), each only while it still holds what the swap
// wrote: what was read, with the part's ttl, as the record's own is not
// known (or none, where none was).
func giveBack(ctx context.Context, s Store, parts []*Op) {
	var b Batch
	for _, won := range parts {
		if !won.OK || won.Err != nil || won.check {
			continue
		}
		var back []byte // none was there
		if won.found {
			back = append([]byte{}, won.old...)
		}
		b.SwapBack(won.key, won.value, back, won.ttl)
	}
	_ = Do(ctx, s, &b)
}

// claim writes every part in one transaction, if each record holds what
// its part read.
func (b *badgerDB) claim(ctx context.Context, parts []*Op) (bool, error) {
	won, g := false, guardOf(ctx)
	err := b.update(ctx, func(txn *badger.Txn) error {
		won = false
		if err := g.inTxn(txn); err != nil {
			return err
		}
		for _, p := range parts {
			cur, found, err := getInTxn(txn, p.key)
			if err != nil {
				return err
			}
			if !p.blind && (found != p.found || !bytes.Equal(cur, p.old)) {
				return nil
			}
		}
		for _, p := range parts {
			if p.check {
				continue
			}
			if err := p.write(txn); err != nil {
				return err
			}
		}
		won = true
		return nil
	})
	if won {
		err = b.synced(ctx, err)
	}
	if won && err == nil {
		for _, p := range parts {
			if !p.check {
				g.wrote(p.key, p.value, p.value != nil)
			}
		}
	}
	return won && err == nil, g.settle(won, err)
}

// write makes a swap's write in txn: its value, or for nil, a delete
// (as Batch.Swap).
func (p *Op) write(txn *badger.Txn) error {
	if p.value == nil {
		return txn.Delete([]byte(p.key))
	}
	return txn.SetEntry(entry(p.key, p.value, p.ttl))
}

// Claim implements Claimer.
func (b *badgerDB) Claim(ctx context.Context, parts []*Op) (bool, error) { return b.claim(ctx, parts) }

// Claim implements Claimer.
func (b *Badger) Claim(ctx context.Context, parts []*Op) (bool, error) { return b.db.claim(ctx, parts) }

// claimScript is swap over several keys: for KEYS[i], ARGV[6i-5] says
// whether there was a record, ARGV[6i-4] is its value, ARGV[6i-3] the
// ttl in ms (0: none), ARGV[6i-2] the new value and ARGV[6i-1], set, says
// to delete the record instead (a nil value, as swap); ARGV[6i] is "c"
// for a part that only compares (a guard's), "w" for one that writes
// without comparing (a guarded Put), else "s". It returns 1 when it
// wrote them all, 0 when one had changed (and wrote none).
var claimScript = redis.NewScript(`
for i, k in ipairs(KEYS) do
	local a = 6 * i - 6
	if ARGV[a + 6] ~= "w" then
		local cur = redis.call("GET", k)
		if ARGV[a + 1] == "1" then
			if cur ~= ARGV[a + 2] then return 0 end
		elseif cur then
			return 0
		end
	end
end
for i, k in ipairs(KEYS) do
	local a = 6 * i - 6
	if ARGV[a + 6] == "c" then
	elseif ARGV[a + 5] == "1" then
		redis.call("DEL", k)
	elseif tonumber(ARGV[a + 3]) > 0 then
		redis.call("SET", k, ARGV[a + 4], "PX", ARGV[a + 3])
	else
		redis.call("SET", k, ARGV[a + 4])
	end
end
return 1`)

// claimArgs are op's keys (prefixed) and claimScript's arguments.
func (r *Redis) claimArgs(op *Op) ([]string, []any) {
	keys, args := make([]string, len(op.parts)), make([]any, 0, 6*len(op.parts))
	for i, p := range op.parts {
		keys[i] = r.key(p.key)
		mode := "s"
		switch {
		case p.check:
			mode = "c"
		case p.blind:
			mode = "w"
		}
		args = append(args, flag(p.found), p.old, millis(p.ttl), p.value, flag(p.value == nil), mode)
	}
	return keys, args
}

// inOneStep says whether a Redis script can claim op's records: on a
// server, always; on a Cluster, when they are in one slot.
func (r *Redis) inOneStep(op *Op) bool {
	if _, ok := r.client.(*redis.ClusterClient); !ok {
		return true
	}
	slot := slotOf(r.key(op.parts[0].key))
	for _, p := range op.parts[1:] {
		if slotOf(r.key(p.key)) != slot {
			return false
		}
	}
	return true
}

// Claim implements Claimer: a batch of the claim alone.
func (r *Redis) Claim(ctx context.Context, parts []*Op) (bool, error) {
	if g := guardOf(ctx); g != nil {
		ctx, done, err := spend(ctx)
		defer done()
		if err != nil {
			return false, err
		}
		won, err := r.guarded(ctx, g, parts...)
		keys := make([]string, len(parts))
		for i, p := range parts {
			keys[i] = p.key
		}
		return won, r.lasting(ctx, err, keys...)
	}
	op := &Op{kind: opClaim, parts: parts}
	r.DoBatch(ctx, []*Op{op})
	return op.OK, op.Err
}

// sendable is ops as a pipeline sends them: a claim that a script cannot
// make (a Cluster's over several slots) as its swaps, side by side; split
// are those claims, for settleClaims.
func (r *Redis) sendable(ops []*Op) (sent, split []*Op) {
	sent = make([]*Op, 0, len(ops))
	for _, op := range ops {
		if op.kind == opClaim && !r.inOneStep(op) {
			sent, split = append(sent, op.parts...), append(split, op)
		} else {
			sent = append(sent, op)
		}
	}
	return sent, split
}

// settleClaims answers, once their swaps are done, the claims that went
// as swaps (sendable's split): won if every swap was. One that won some of
// its records and lost others gives back those it won, each only while
// its record still holds what it wrote (what was read is put back, with
// the claim's ttl: the record's own is not known), then is made again in
// turn (claimInTurn): two claims that split their shared records between
// them, side by side, would both have lost, and both again when decided
// again at the same instant; in key order, the first record they share
// goes to one of them, which wins. Round trips more only then. One whose
// swap failed (an error) gives back those it won too, and answers the
// error: a claim that is not made keeps none of its records (as one made
// in turn, claimInTurn), whatever its caller then does.
func (r *Redis) settleClaims(ctx context.Context, split []*Op) {
	for _, op := range split {
		won := 0
		for _, p := range op.parts {
			switch {
			case p.Err != nil:
				op.Err = p.Err
			case p.OK:
				won++
			}
		}
		if op.OK = won == len(op.parts); op.OK || won == 0 {
			continue
		}
		giveBack(ctx, r, op.parts)
		if op.Err == nil {
			op.OK, op.Err = claimInTurn(ctx, r, op.parts)
		}
	}
}
