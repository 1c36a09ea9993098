package store

import (
	"context"
	"testing"
	"time"
)

// askedAgain is the database OpenBadger opens, whose Counter fails the
// test: a batch's Counter is to read the count from the record it read.
type askedAgain struct {
	*badgerDB
	t *testing.T
}

func (a askedAgain) Counter(ctx context.Context, key string) (int64, error) {
	a.t.Errorf("%s: the count asked for after its record was read", key)
	return a.badgerDB.Counter(ctx, key)
}

// TestABadgerCounterIsReadOnce: a batch's Counter on the database
// OpenBadger opens (the tests', the offline CLI's) reads the count from
// the record it read for a Swap, as on the Caddy module's Badger. Before,
// only the module's type (*Badger) read it so; OpenBadger's fell through
// to a second read (Counter), which TestACounterReadIsSwapped went
// through instead of the production path.
func TestABadgerCounterIsReadOnce(t *testing.T) {
	t.Parallel()
	s, closeDB, err := OpenBadger(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = closeDB() })
	ctx := context.Background()
	for range 2 {
		if _, err := s.Incr(ctx, "c", time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	var b Batch
	read, none := b.Counter("c"), b.Counter("none")
	if err := Do(ctx, askedAgain{s.(*badgerDB), t}, &b); err != nil {
		t.Fatal(err)
	}
	if read.N != 2 || read.Value == nil || none.N != 0 || none.Value != nil {
		t.Errorf("read %d (%x), none %d (%x); want 2 (its record), 0 (none)", read.N, read.Value, none.N, none.Value)
	}
}
