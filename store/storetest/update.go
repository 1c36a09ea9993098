package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
)

// runUpdate is the suite's part on Store.Update: what a change function is
// given and what its answers do, and that concurrent updates lose nothing.
func runUpdate(t *testing.T, s store.Store, key func(t *testing.T, name string) string) {
	ctx := context.Background()

	t.Run("Update", func(t *testing.T) {
		k := key(t, "r")
		update := func(want string, wantFound bool, value []byte, err error) error {
			t.Helper()
			return s.Update(ctx, k, func(old []byte, found bool) ([]byte, time.Duration, error) {
				if string(old) != want || found != wantFound {
					t.Fatalf("change was given %q, %v; want %q, %v", old, found, want, wantFound)
				}
				return value, time.Hour, err
			})
		}
		get := func() string {
			t.Helper()
			v, err := s.Get(ctx, k)
			if errors.Is(err, store.ErrNotFound) {
				return "<none>"
			}
			if err != nil {
				t.Fatal(err)
			}
			return string(v)
		}
		if err := update("", false, nil, nil); err != nil || get() != "<none>" {
			t.Fatalf("deleting a missing record: %v, %s", err, get())
		}
		if err := update("", false, []byte("one"), nil); err != nil || get() != "one" {
			t.Fatalf("creating: %v, %s", err, get())
		}
		if err := update("one", true, []byte("two"), nil); err != nil || get() != "two" {
			t.Fatalf("changing: %v, %s", err, get())
		}
		if err := update("two", true, []byte("x"), store.ErrUnchanged); err != nil || get() != "two" {
			t.Fatalf("ErrUnchanged: %v, %s", err, get())
		}
		refused := errors.New("refused")
		if err := update("two", true, []byte("x"), refused); !errors.Is(err, refused) || get() != "two" {
			t.Fatalf("an error from change: %v, %s", err, get())
		}
		if err := update("two", true, []byte{}, nil); err != nil || get() != "" {
			t.Fatalf("an empty value is a value: %v, %q", err, get())
		}
		if err := update("", true, nil, nil); err != nil || get() != "<none>" {
			t.Fatalf("deleting: %v, %s", err, get())
		}
	})

	t.Run("UpdateSeesAnotherWriter", func(t *testing.T) {
		// Another writer changes the record between the read and the
		// write: the change is made again, on what that writer wrote.
		k := key(t, "r")
		if err := s.Put(ctx, k, []byte("a"), 0); err != nil {
			t.Fatal(err)
		}
		var given []string
		err := s.Update(ctx, k, func(old []byte, _ bool) ([]byte, time.Duration, error) {
			given = append(given, string(old))
			if len(given) == 1 {
				if err := s.Put(ctx, k, []byte("b"), 0); err != nil {
					t.Fatal(err)
				}
			}
			return append(old, '+'), 0, nil
		})
		if got, _ := s.Get(ctx, k); err != nil || string(got) != "b+" || len(given) != 2 || given[1] != "b" {
			t.Fatalf("Update = %v, record %q, change given %q; want b+ after a second call given b", err, got, given)
		}
	})

	t.Run("UpdateDeletesOnlyWhatItRead", func(t *testing.T) {
		// A compare-and-delete: the record goes only while it holds what
		// the change was given. Another writer's value, written between the
		// read and the delete, stays (the undo of a recovery-code renewal
		// must not delete a set another session wrote meanwhile).
		k := key(t, "r")
		casDelete := func(mine string, meanwhile func()) error {
			return s.Update(ctx, k, func(old []byte, found bool) ([]byte, time.Duration, error) {
				if meanwhile != nil {
					meanwhile()
					meanwhile = nil
				}
				if !found || string(old) != mine {
					return nil, 0, store.ErrUnchanged
				}
				return nil, 0, nil
			})
		}
		if err := s.Put(ctx, k, []byte("mine"), 0); err != nil {
			t.Fatal(err)
		}
		err := casDelete("mine", func() {
			if err := s.Put(ctx, k, []byte("theirs"), 0); err != nil {
				t.Fatal(err)
			}
		})
		if got, gerr := s.Get(ctx, k); err != nil || gerr != nil || string(got) != "theirs" {
			t.Fatalf("a delete of a record another writer changed since its read: %v; record %q, %v", err, got, gerr)
		}
		if err := casDelete("theirs", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(ctx, k); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a delete of the record as read left it: %v", err)
		}
	})

	t.Run("UpdateLosesNothing", func(t *testing.T) {
		// Goroutines increment a field of one JSON record 1,000 times in all.
		k := key(t, "counter")
		var calls atomic.Int64
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 125 {
					err := s.Update(ctx, k, func(old []byte, found bool) ([]byte, time.Duration, error) {
						calls.Add(1)
						var rec struct {
							N int `json:"n"`
						}
						if found {
							if err := json.Unmarshal(old, &rec); err != nil {
								return nil, 0, err
							}
						}
						rec.N++
						v, err := json.Marshal(rec)
						return v, time.Hour, err
					})
					if err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		raw, err := s.Get(ctx, k)
		if err != nil || string(raw) != `{"n":1000}` {
			t.Fatalf("after 1,000 concurrent increments: %s, %v (change called %d times)", raw, err, calls.Load())
		}
		t.Logf("1,000 increments, change called %d times", calls.Load())
	})
}
