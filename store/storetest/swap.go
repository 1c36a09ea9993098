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
