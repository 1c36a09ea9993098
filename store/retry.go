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

// retry calls try until it reports done, backing off between tries. It
// gives up with ErrContended after maxTries, or with ctx's error.
func retry(ctx context.Context, try func() (done bool, err error)) error {
	backoff := firstBackoff
	for range maxTries {
		done, err := try()
		if done || err != nil {
			return err
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
	return ErrContended
}
