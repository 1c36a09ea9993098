package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
)

// swapDeletes: a swap back of nil deletes the record, only if it still
// holds what the caller wrote (a send taken back: enrollment's putBack).
// k names a key of the test's.
func swapDeletes(ctx context.Context, t *testing.T, s store.Store, k func(string) string) {
	for _, name := range []string{"gone", "kept"} {
		if err := s.Put(ctx, k(name), []byte("a"), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Put(ctx, k("kept"), []byte("b"), time.Hour); err != nil {
		t.Fatal(err)
	}
	var b store.Batch
	gone, kept := b.SwapBack(k("gone"), []byte("a"), nil, 0), b.SwapBack(k("kept"), []byte("a"), nil, 0)
	if err := store.Do(ctx, s, &b); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, k("gone")); !gone.OK || !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a swap of nil over what was read: wrote %v, the record: %v; want it deleted", gone.OK, err)
	}
	if got, _ := s.Get(ctx, k("kept")); kept.OK || string(got) != "b" {
		t.Errorf("a swap of nil over a record changed since: wrote %v, the record is %q; want it kept", kept.OK, got)
	}
}

// countSwapped: a count written over a counter read (SwapCount: the
// pumping guard's mark, above a count) is one an Incr adds to and a
// Counter reads, in the format the store keeps counts in, whether the
// batch runs in the store's own way or one operation after another (a
// store wrapper, which hides how the store keeps counts); over none read,
// none is written, and over a counter changed since, nothing.
func countSwapped(ctx context.Context, t *testing.T, s store.Store, k func(string) string) {
	const mark = 1<<54 | 7
	for _, c := range []struct {
		name          string
		before, since int // counts before the read, and between it and the swap
		want          int64
	}{{"counted", 2, 0, mark + 1}, {"none", 0, 0, 1}, {"changed", 2, 1, 4}} {
		for name, s := range map[string]store.Store{"": s, " one by one": struct{ store.Store }{s}} {
			key := k(c.name + name)
			for range c.before {
				if _, err := s.Incr(ctx, key, time.Hour); err != nil {
					t.Fatal(err)
				}
			}
			var reads, writes store.Batch
			read := reads.Counter(key)
			if err := store.Do(ctx, s, &reads); err != nil {
				t.Fatal(err)
			}
			for range c.since {
				if _, err := s.Incr(ctx, key, time.Hour); err != nil {
					t.Fatal(err)
				}
			}
			swap := writes.SwapCount(key, read, mark, time.Hour)
			if err := store.Do(ctx, s, &writes); err != nil || swap.OK != (c.since == 0) {
				t.Fatalf("%s%s: swapped %v, %v", c.name, name, swap.OK, err)
			}
			if got, err := s.Incr(ctx, key, time.Hour); err != nil || got != c.want {
				t.Errorf("%s%s: counted on to %d (%v); want %d", c.name, name, got, err, c.want)
			}
			if got, err := s.Counter(ctx, key); err != nil || got != c.want {
				t.Errorf("%s%s: read %d (%v); want %d", c.name, name, got, err, c.want)
			}
		}
	}
}
