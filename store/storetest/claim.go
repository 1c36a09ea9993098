package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
)

// claim: a claim writes all its records when each holds what was read,
// and none when one changed since (whichever: on a Cluster, or made in
// turn, the ones before it in key order are given back); in a batch with
// other operations, it answers for its records alone.
func claim(t *testing.T, s store.Store, key func(*testing.T, string) string) {
	ctx := context.Background()
	k := func(name string) string { return key(t, name) }
	get := func(name string) string { v, _ := s.Get(ctx, k(name)); return string(v) }
	put := func(name, v string) {
		if err := s.Put(ctx, k(name), []byte(v), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	read := func(names ...string) []*store.Op {
		var b store.Batch
		ops := make([]*store.Op, len(names))
		for i, n := range names {
			ops[i] = b.Get(k(n))
		}
		if err := store.Do(ctx, s, &b); err != nil {
			t.Fatal(err)
		}
		return ops
	}
	do := func(put string, names []string, reads []*store.Op, value string) bool {
		var b store.Batch
		swaps := make([]store.Swap, len(names))
		for i, n := range names {
			swaps[i] = store.Swap{Key: k(n), Read: reads[i], Value: []byte(value), TTL: time.Hour}
		}
		other := b.Put(k(put), []byte(value), time.Hour)
		c := b.Claim(swaps...)
		if err := store.Do(ctx, s, &b); err != nil || c.Err != nil || other.Err != nil {
			t.Fatalf("claim of %v: %v, %v, %v", names, err, c.Err, other.Err)
		}
		return c.OK
	}
	names := []string{"a", "b", "c", "d"}
	put("b", "before")
	put("d", "before")
	reads := read(names...)
	if !do("other", names, reads, "first") {
		t.Fatal("a claim of records as read did not write")
	}
	for _, n := range append(names, "other") {
		if got := get(n); got != "first" {
			t.Fatalf("after a claim that wrote, %s holds %q; want first", n, got)
		}
	}
	// Each record in turn changed (or deleted) since the read: the claim
	// writes none of them.
	for i, n := range names {
		reads := read(names...)
		if i%2 == 0 {
			put(n, "meanwhile")
		} else if err := s.Delete(ctx, k(n)); err != nil {
			t.Fatal(err)
		}
		want := map[bool]string{true: "meanwhile", false: ""}[i%2 == 0]
		if do("other"+n, names, reads, "second") {
			t.Fatalf("a claim wrote with %s changed since its read", n)
		}
		for _, m := range names {
			if got, w := get(m), map[bool]string{true: want, false: "first"}[m == n]; got != w {
				t.Fatalf("a claim lost on %s left %s holding %q; want %q", n, m, got, w)
			}
		}
		if got := get("other" + n); got != "second" {
			t.Fatalf("the batch's other write: %q", got)
		}
		put(n, "first")
	}
	// A claim of nil deletes its record, as a swap of nil does (not an
	// empty value).
	reads = read("a", "b")
	var b store.Batch
	c := b.Claim(store.Swap{Key: k("a"), Read: reads[0]}, store.Swap{Key: k("b"), Read: reads[1], Value: []byte("third"), TTL: time.Hour})
	if err := store.Do(ctx, s, &b); err != nil || !c.OK || c.Err != nil {
		t.Fatalf("a claim of nil and a value: %v %v %v", err, c.OK, c.Err)
	}
	if v, err := s.Get(ctx, k("a")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a claim of nil left its record holding %q (%v); want it deleted", v, err)
	}
	if got := get("b"); got != "third" {
		t.Fatalf("the claim's other record holds %q; want third", got)
	}
}
