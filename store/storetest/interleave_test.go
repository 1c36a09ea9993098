package storetest_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestInterleaverFindsALostUpdate: two increments of a record, each a read
// and a write in two steps, lose one in every interleaving the
// Interleaver forces; with Store.Update, none.
func TestInterleaverFindsALostUpdate(t *testing.T) {
	t.Parallel()
	st, closeDB, err := store.OpenBadger(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = closeDB() })
	il := &storetest.Interleaver{Store: st}
	twoSteps := func(ctx context.Context, key string) {
		raw, _ := il.Get(ctx, key)
		n, _ := strconv.Atoi(string(raw))
		_ = il.Put(ctx, key, []byte(strconv.Itoa(n+1)), 0)
	}
	atomic := func(ctx context.Context, key string) {
		_ = il.Update(ctx, key, func(raw []byte, _ bool) ([]byte, time.Duration, error) {
			n, _ := strconv.Atoi(string(raw))
			return []byte(strconv.Itoa(n + 1)), 0, nil
		})
	}
	for name, incr := range map[string]func(context.Context, string){"two steps": twoSteps, "Update": atomic} {
		runs, lost := 0, 0
		held := il.Interleave(t, func() storetest.Pair {
			runs++
			key := name + strconv.Itoa(runs)
			change := func(ctx context.Context) { incr(ctx, key) }
			return storetest.Pair{Key: key, A: change, B: change, Check: func() {
				if raw, _ := st.Get(context.Background(), key); string(raw) != "2" {
					lost++
				}
			}}
		})
		want := 0
		if name == "two steps" {
			want = held
		}
		if held != 2 || lost != want {
			t.Errorf("%s: %d interleavings, %d lost an increment; want 2, %d", name, held, lost, want)
		}
	}
}
