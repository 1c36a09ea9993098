package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
)

// TestRetryTriesAsToldAndWaitsBetween: Retry calls its try until done, at
// most tries times, each after a wait, and answers ErrContended after the
// last try without waiting after it (a context cancelled by then is not
// met: before, the wait after the last try answered its error), a try's
// error at once, and a context's cancelled during a wait.
func TestRetryTriesAsToldAndWaitsBetween(t *testing.T) {
	ctx := context.Background()
	var at []time.Time
	never := func() (bool, error) { at = append(at, time.Now()); return false, nil }
	if err := store.Retry(ctx, 5, never); !errors.Is(err, store.ErrContended) || len(at) != 5 {
		t.Fatalf("never done: %v after %d tries; want ErrContended after 5", err, len(at))
	}
	for i := 1; i < len(at); i++ {
		if !at[i].After(at[i-1]) {
			t.Errorf("try %d at once after the one before", i+1)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	at = nil
	if err := store.Retry(cancelled, 1, never); !errors.Is(err, store.ErrContended) || len(at) != 1 {
		t.Fatalf("one try, the context cancelled: %v after %d tries; want ErrContended after 1 (no wait after the last)", err, len(at))
	}
	at = nil
	if err := store.Retry(cancelled, 3, never); !errors.Is(err, context.Canceled) || len(at) != 1 {
		t.Fatalf("three tries, the context cancelled: %v after %d tries; want its error at the first wait", err, len(at))
	}
	n, boom := 0, errors.New("boom")
	if err := store.Retry(ctx, 5, func() (bool, error) { n++; return n == 2, nil }); err != nil || n != 2 {
		t.Fatalf("done at the second try: %v after %d", err, n)
	}
	n = 0
	if err := store.Retry(ctx, 5, func() (bool, error) { n++; return false, boom }); err != boom || n != 1 {
		t.Fatalf("a try's error: %v after %d tries; want it at once", err, n)
	}
}
