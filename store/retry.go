package store

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"
)

// ErrUnchanged, returned by an Update's change function, leaves the record
// as it is; Update then returns nil.
var ErrUnchanged = errors.New("store: unchanged")

// ErrContended says that a record changed under every one of an update's
// tries: so many writers on one key that this one never got a turn.
var ErrContended = errors.New("store: too many concurrent writers on one record; try again")

// The bounds of a retried write: a record of one user is changed by that
// user's few requests, so a second try nearly always wins; the tries back
// off, with jitter, so that writers that collided do not collide again.
const (
	maxTries     = 100
	firstBackoff = 20 * time.Microsecond
	maxBackoff   = 5 * time.Millisecond
)

// retry is Retry with the store's own bound (maxTries), for its updates.
func retry(ctx context.Context, try func() (done bool, err error)) error {
	return Retry(ctx, maxTries, try)
}

// Retry calls try until it reports done, at most tries times, backing off
// between tries (from 20 µs, doubling up to 5 ms, each wait drawn at
// random below it), so that writers that collided do not collide again at
// once: a caller's compare-and-set lost to another writer, read and tried
// again. It gives up with ErrContended after the last try (no wait after
// it), or with try's error, or ctx's.
func Retry(ctx context.Context, tries int, try func() (done bool, err error)) error {
	backoff := firstBackoff
	for n := 1; ; n++ {
		done, err := try()
		if done || err != nil {
			return err
		}
		if n >= tries {
			return ErrContended
		}
		if err := ctx.Err(); err != nil {
			return err // not left to the select, which picks at random among ready cases
		}
		t := time.NewTimer(rand.N(backoff) + 1)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		backoff = min(2*backoff, maxBackoff)
	}
}
