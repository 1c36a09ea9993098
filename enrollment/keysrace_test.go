package enrollment

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
)

// TestTwoImportsAtOnceEachSayWhetherTheyReplacedTheKeys: an import's
// "keys replaced" is true of what its own write replaced. Two imports at
// once of two key files: the store's own keys (an export imported back)
// and another's. Whichever went in second replaced the first's: the
// store's own keys written over the other's replace them (their sessions
// end), though the store held its own when the import began. On Badger, a
// Redis server and a Redis Cluster (record by record), many rounds over a
// sweep of delays; each answer must match what the store holds after
// both. Before, the answer was read before the write (KeysReplaced): the
// import of the store's own keys said "replaced nothing" when it came
// second.
func TestTwoImportsAtOnceEachSayWhetherTheyReplacedTheKeys(t *testing.T) {
	t.Parallel()
	own, other := bytes.Repeat([]byte{'o'}, 32), bytes.Repeat([]byte{'x'}, 32)
	file := func(secret []byte) []Record {
		v, _ := json.Marshal(secret)
		return []Record{{Key: "b64:keys/secret", Value: v}}
	}
	onImportStores(t, func(t *testing.T, st store.Store) {
		admin := &Admin{Core: &Core{Store: st, Now: time.Now}}
		ctx := context.Background()
		// Into a store without keys, then again: replaced, then not.
		for i, want := range []bool{true, false} {
			if done, err := admin.Import(ctx, file(own)); err != nil || done.KeysReplaced != want {
				t.Fatalf("import %d of the same keys: replaced %v (%v); want %v", i+1, done.KeysReplaced, err, want)
			}
		}
		figures := map[string]int{}
		for i := range 5 * raceRuns {
			if err := st.Put(ctx, "keys/secret", own, 0); err != nil {
				t.Fatal(err)
			}
			var a, b Imported
			var errA, errB error
			raceAfter(time.Duration(i%10)*100*time.Microsecond,
				func() { a, errA = admin.Import(ctx, file(own)) },
				func() { b, errB = admin.Import(ctx, file(other)) })
			if errA != nil || errB != nil {
				t.Fatalf("round %d: %v, %v", i, errA, errB)
			}
			held, err := st.Get(ctx, "keys/secret")
			if err != nil {
				t.Fatal(err)
			}
			ownLast := bytes.Equal(held, own)
			figures[fmt.Sprintf("own keys last: %v", ownLast)]++
			// The other's always replaced (the store's own, or again its
			// own over the other's); the store's own only when it came last.
			if !b.KeysReplaced || a.KeysReplaced != ownLast {
				t.Errorf("round %d: the store holds its own keys: %v; the import of its own said replaced: %v, of the other's: %v",
					i, ownLast, a.KeysReplaced, b.KeysReplaced)
			}
		}
		t.Logf("%d rounds: %v", 5*raceRuns, figures)
	})
}
