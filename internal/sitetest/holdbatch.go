package sitetest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"

	"github.com/smsgate/caddy-smsgate/store"
)

// errUnread is a read's answer that Holds.Fail fails.
var errUnread = errors.New("test: the store cannot be read")

// fails says whether a read of key fails (Holds.Fail, while "fail" or
// "fail-once" exists, but the first while "spare" does, which it removes).
func (h *HoldStore) fails(key string) bool {
	if Holds.Fail == nil || !Holds.Fail(key) || os.Remove(filepath.Join(h.Dir, "spare")) == nil {
		return false
	}
	_, err := os.Stat(filepath.Join(h.Dir, "fail"))
	return err == nil || os.Remove(filepath.Join(h.Dir, "fail-once")) == nil
}

// DoBatch implements store.Batcher: the batch goes whole to the inner
// store (on Redis one pipeline, and under a guard its writes in one
// script with the guard's checks, as in production), its reads that
// Holds.Fail fails aside; the store is held (AddHold) once the batch
// is done, where a read ("read": a Get, a Counter) or a write made
// ("write": a Put, a Swap or PutIfAbsent that wrote) matches; a write
// Holds.Break matches (those, or a claim made, by any of its records)
// takes the store away, the batch's writes answering errDown: as the
// store's own methods do (a Delete or a Take neither holds nor breaks). While "rewrite" exists,
// the batch is split into the store's own methods (Holds.Rewrite: a Put's
// value replaced: TestAPreviousReleasesSetupIsStillConfirmed), as every
// batch was before guard37.
func (h *HoldStore) DoBatch(ctx context.Context, ops []*store.Op) {
	if h.down() {
		for _, op := range ops {
			op.Err = errDown
		}
		return
	}
	if _, err := os.Stat(filepath.Join(h.Dir, "rewrite")); err == nil && Holds.Rewrite != nil {
		store.RunEach(ctx, h, ops)
		return
	}
	sent := make([]*store.Op, 0, len(ops))
	for _, op := range ops {
		if reads(op) && h.fails(op.Key()) {
			op.Err = errUnread
			continue
		}
		if op.Kind() == "get" && h.expired(op.Key()) {
			op.Err = store.ErrNotFound
			continue
		}
		sent = append(sent, op)
	}
	store.DoOps(ctx, h.Store, sent)
	var written []*store.Op
	var keys []string
	for _, op := range sent {
		if op.Err == nil && (op.Kind() == "put" || op.OK && (op.Kind() == "swap" || op.Kind() == "claim")) {
			written, keys = append(written, op), append(keys, op.Keys()...)
		}
	}
	if len(written) > 0 && h.breaks(keys...) {
		for _, op := range written {
			op.Err = errDown
		}
		return
	}
	for _, op := range sent {
		switch {
		case reads(op):
			h.after("read", op.Key())
		case op.Kind() != "claim" && slices.Contains(written, op):
			h.after("write", op.Key())
		}
	}
}

// reads says whether op reads a record (a Get, a Counter).
func reads(op *store.Op) bool { return op.Kind() == "get" || op.Kind() == "counter" }
