package store

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"
)

// TestAGuardedBatchOnAMovingSlot (guard38): on a Redis Cluster, a guarded
// batch (store.Do) whose records and guard's records share a slot goes
// as one script in the batch's pipeline (guardBatch), and a write alone
// as one claim script (guarded). While that slot moves between masters
// (a reshard, a failover's slots handed over), the script meets the
// move, forced here with CLUSTER SETSLOT on the key's slot:
//   - moved: the slot moved since the client read its map: MOVED,
//     which go-redis follows in a pipeline (the script was not run);
//   - ask: the slot migrating, all its records at the new master: ASK,
//     which go-redis follows too (ASKING, then the script there);
//   - tryagain: the slot migrating, a record new to it (a Put's) at
//     neither master: a script of several keys, some missing, is refused
//     at both (TRYAGAIN), past go-redis's own tries.
//
// In each, a batch whose guard held is written whole, and a single
// guarded write too; one whose guard's record was changed between the
// read and the write (a revocation) is refused with ErrGuardBroken and
// writes nothing. Before, the TRYAGAIN was every write's error: the
// user's change, made on a live session, failed (nothing written); now
// the writes are made alone, each guarded as on a Cluster's several
// slots (checkThenClaim), as a claim refused so is (claimInTurn).
func TestAGuardedBatchOnAMovingSlot(t *testing.T) {
	t.Parallel()
	bg := context.Background()
	c, r := onReplicatedCluster(t)
	for _, how := range []string{"moved", "ask", "tryagain"} {
		for _, revoked := range []bool{false, true} {
			name := how
			if revoked {
				name += "-revoked"
			}
			t.Run(name, func(t *testing.T) {
				tag := "{" + tagFor(slotOf(r.key("guard38-"+name))) + "}" // the case's slot
				k := func(s string) string { return tag + s }
				existing := []string{"end", "delete", "swap", "claim-a", "claim-b"}
				if how != "tryagain" { // there "put" is new to the slot
					existing = append(existing, "put")
				}
				for _, key := range existing {
					if err := r.Put(bg, k(key), []byte("old"), 0); err != nil {
						t.Fatal(err)
					}
				}
				var reads Batch
				end, swap, a, b := reads.Get(k("end")), reads.Get(k("swap")), reads.Get(k("claim-a")), reads.Get(k("claim-b"))
				if err := Do(bg, r, &reads); err != nil {
					t.Fatal(err)
				}
				g := NewGuard(end)

				_, to := elsewhere(t, c, r, k("end"))
				switch how {
				case "moved":
					c.MoveSlot(slotOf(r.key(k("end"))), to)
				case "ask":
					c.Migrate(slotOf(r.key(k("end"))), to).MoveAll()
				case "tryagain":
					c.Migrate(slotOf(r.key(k("end"))), to)
				}
				if revoked { // between the guard's read and the change
					if err := r.Put(bg, k("end"), []byte("revoked"), 0); err != nil {
						t.Fatal(err)
					}
				}

				var batch Batch
				ops := []*Op{
					batch.Put(k("put"), []byte("new"), 0),
					batch.Delete(k("delete")),
					batch.Swap(k("swap"), swap, []byte("new"), 0),
					batch.Claim(Swap{Key: k("claim-a"), Read: a, Value: []byte("new")}, Swap{Key: k("claim-b"), Read: b, Value: []byte("new")}),
				}
				batch.Get(k("beside"))
				ctx := Lasting(WithGuard(bg, g))
				_ = Do(ctx, r, &batch)
				state := func() string {
					out := ""
					for _, key := range []string{"put", "delete", "swap", "claim-a", "claim-b"} {
						v, err := r.Get(bg, k(key))
						if err != nil && !errors.Is(err, ErrNotFound) {
							t.Fatal(err)
						}
						out += key + "=" + string(v) + " "
					}
					return out
				}
				untouched := "put= delete=old swap=old claim-a=old claim-b=old "
				if how != "tryagain" {
					untouched = "put=old delete=old swap=old claim-a=old claim-b=old "
				}
				written := "put=new delete= swap=new claim-a=new claim-b=new "
				if revoked {
					for i, op := range ops {
						if !errors.Is(op.Err, ErrGuardBroken) || op.OK {
							t.Errorf("write %d of a batch whose guard's record changed: %v (ok %v), want ErrGuardBroken", i, op.Err, op.OK)
						}
					}
					if got := state(); got != untouched || !g.Broken() {
						t.Errorf("a batch whose guard's record changed: broken %v, wrote\n%s\nwant\n%s", g.Broken(), got, untouched)
					}
					return
				}
				for i, op := range ops {
					if op.Err != nil {
						t.Errorf("write %d of a batch, its guard's record unchanged: %v", i, op.Err)
					}
				}
				if got := state(); got != written || g.Broken() {
					t.Errorf("a batch, its guard's record unchanged: broken %v, wrote\n%s\nwant\n%s", g.Broken(), got, written)
				}

				// A write alone under a guard of its slot's record, not spent.
				var again Batch
				end = again.Get(k("end"))
				if err := Do(bg, r, &again); err != nil {
					t.Fatal(err)
				}
				g = NewGuard(end)
				if err := r.Put(Lasting(WithGuard(bg, g)), k("alone"), []byte("new"), 0); err != nil || g.Broken() {
					t.Errorf("a guarded write alone, its guard's record unchanged: %v (broken %v)", err, g.Broken())
				}
				if v, err := r.Get(bg, k("alone")); err != nil || string(v) != "new" {
					t.Errorf("the write alone: %q %v", v, err)
				}
			})
		}
	}
}

// TestATryAgainInABatchMakesNothingTwice (guard38): go-redis re-sends
// every command of a node's share of a Cluster pipeline whose first
// command answered TRYAGAIN (a claim's one script on a slot mid-move,
// some of its keys at neither master), up to its MaxRedirects: the
// commands after it, made already, were made again — an INCR beside such
// a claim counted 4, and a swap made twice reads its own write and says
// it lost. Now a multi-key script of a Cluster's batch goes after a read
// of its own first key (its slot's node's share never begins with it):
// its TRYAGAIN is its own (made in turn: claimInTurn), the rest made once.
func TestATryAgainInABatchMakesNothingTwice(t *testing.T) {
	t.Parallel()
	bg := context.Background()
	c, r := onReplicatedCluster(t)
	tag := "{" + tagFor(slotOf(r.key("twice"))) + "}"
	old, to := elsewhere(t, c, r, tag+"a")
	if err := r.Put(bg, tag+"a", []byte("old"), 0); err != nil {
		t.Fatal(err)
	}
	// Records of other slots at the same master: a counter, a swap's.
	var same []string
	for i := 0; len(same) < 2; i++ {
		k := "beside-" + strconv.Itoa(i)
		if at, _ := elsewhere(t, c, r, k); at.Options().Addr == old.Options().Addr && slotOf(r.key(k)) != slotOf(r.key(tag+"a")) {
			same = append(same, k)
		}
	}
	if err := r.Put(bg, same[1], []byte("old"), 0); err != nil {
		t.Fatal(err)
	}
	c.Migrate(slotOf(r.key(tag+"a")), to) // tag+"b" at neither: TRYAGAIN
	var reads Batch
	a, sw := reads.Get(tag+"a"), reads.Get(same[1])
	if err := Do(bg, r, &reads); err != nil {
		t.Fatal(err)
	}
	var b Batch
	claim := b.Claim(Swap{Key: tag + "a", Read: a, Value: []byte("new")}, Swap{Key: tag + "b", Read: &Op{Err: ErrNotFound}, Value: []byte("new")})
	n := b.Incr(same[0], time.Hour)
	swap := b.Swap(same[1], sw, []byte("new"), 0)
	if err := Do(bg, r, &b); err != nil {
		t.Fatal(err)
	}
	got, err := r.Counter(bg, same[0])
	if err != nil || got != 1 || n.N != 1 {
		t.Errorf("an INCR beside a claim refused TRYAGAIN: answered %d, counted %d (%v), want 1", n.N, got, err)
	}
	if !swap.OK {
		t.Errorf("a swap beside a claim refused TRYAGAIN, made: answered lost")
	}
	if !claim.OK || claim.Err != nil {
		t.Errorf("the claim refused TRYAGAIN, made in turn: %v %v", claim.OK, claim.Err)
	}
}
