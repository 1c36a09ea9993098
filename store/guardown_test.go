package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestAChangesOwnWriteOfItsGuardsRecordKeepsTheGuard: on Badger and Redis,
// a change's preparation (store.Preparing) that writes the very record its
// guard read (an admin's console reset of herself writes the revocation
// her session's guard read) does not break the guard: the guard holds
// what was written from then on, and the write that makes the change is
// made (attack37 F1: it was refused, and her reset reset nothing). Each
// kind of write (Update, Put, Delete, Take, a claim) as the preparation;
// a write by another after it (a revocation landing between the
// preparation and the change) still breaks the guard.
func TestAChangesOwnWriteOfItsGuardsRecordKeepsTheGuard(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, s store.Store) {
		bg := context.Background()
		end := store.Key("revoked-user", "r", "zoe")
		prepares := map[string]func(ctx context.Context) error{
			"update": func(ctx context.Context) error {
				return s.Update(ctx, end, func([]byte, bool) ([]byte, time.Duration, error) { return []byte("mine"), 0, nil })
			},
			"put":    func(ctx context.Context) error { return s.Put(ctx, end, []byte("mine"), 0) },
			"delete": func(ctx context.Context) error { return s.Delete(ctx, end) },
			"take": func(ctx context.Context) error {
				_, err := s.Take(ctx, end)
				return err
			},
			"claim": func(ctx context.Context) error {
				var reads store.Batch
				read := reads.Get(end)
				if err := store.Do(bg, s, &reads); err != nil {
					return err
				}
				c, ok := s.(store.Claimer)
				if !ok {
					t.Skip("not a Claimer")
				}
				var b store.Batch
				b.Claim(store.Swap{Key: end, Read: read, Value: []byte("mine")})
				_, err := c.Claim(ctx, store.ClaimParts(&b))
				return err
			},
		}
		for name, prepare := range prepares {
			for _, another := range []bool{false, true} {
				if err := s.Put(bg, end, []byte("before"), 0); err != nil {
					t.Fatal(err)
				}
				var b store.Batch
				read := b.Get(end)
				if err := store.Do(bg, s, &b); err != nil {
					t.Fatal(err)
				}
				g := store.NewGuard(read)
				ctx := store.Lasting(store.WithGuard(bg, g))
				if err := prepare(store.Preparing(ctx)); err != nil {
					t.Fatalf("%s, the preparation: %v", name, err)
				}
				if another { // a revocation landing after the preparation
					if err := s.Put(bg, end, []byte("theirs"), 0); err != nil {
						t.Fatal(err)
					}
				}
				change := store.Key("change", name)
				err := s.Put(ctx, change, []byte("made"), 0)
				got, _ := s.Get(bg, change)
				switch {
				case !another && (err != nil || string(got) != "made"):
					t.Errorf("%s: the change after its own preparation: %v, %q written; want it made", name, err, got)
				case another && (!errors.Is(err, store.ErrGuardBroken) || got != nil):
					t.Errorf("%s: the change after another's write: %v, %q written; want ErrGuardBroken", name, err, got)
				}
				_ = s.Delete(bg, change)
			}
		}
	})
}
