package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"go.uber.org/zap"
)

// TestASendsKeyOutlivesItsWindow: a send's key on disk lives at least as
// long as its window counts it (Badger keeps expiries in whole seconds, and
// a key is gone from the second its expiry names): written at 10.9 s for a
// minute, a key that expired at 70 s was gone from 70.0 s while its window
// counted it until 70.9 s, so a restart meanwhile (or a longer window's
// keepLonger, which reads the keys on disk) lost a send the window still
// counted. Checked on a first send, and on a send whose window a longer
// span then counts first (kept longer).
func TestASendsKeyOutlivesItsWindow(t *testing.T) {
	t.Parallel()
	db, err := openBadger(t.TempDir(), zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Destruct() })
	ctx := context.Background()
	for i, span := range []time.Duration{time.Minute, time.Minute, time.Hour} {
		// The caller's clock is read before the store's (as a real
		// caller's is), a fraction of a second into its second.
		if ok, _, err := db.Slide(ctx, "w", fmt.Sprint("send", i), 9, span, time.Now()); err != nil || !ok {
			t.Fatal(ok, err)
		}
	}
	n := 0
	err = db.windows.eachSend("w", func(item *badger.Item, at int64, id string, v []byte) {
		n++
		counted := time.Unix(0, at).Add(time.Hour) // the longest span counts it
		if gone := time.Unix(int64(item.ExpiresAt()), 0); gone.Before(counted) {
			t.Errorf("%s: its key is gone at %v, before its window stops counting it at %v", id, gone, counted)
		}
	})
	if err != nil || n != 3 {
		t.Fatal(n, err)
	}
}
