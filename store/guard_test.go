package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestAGuardedWriteIsRefusedOnceItsRecordChanged: on Badger and Redis, a
// change let in on a read of a record (a session's end, as
// session.Manager.LiveGuard reads it) is written only while the record
// still holds what was read, checked in the write's own atomic step: the
// record changed between the read and the write (a revocation landing
// there), each kind of lasting write (Update, Put, PutIfAbsent, Delete,
// Take, a claim) is refused with ErrGuardBroken and writes nothing; not
// changed, the first write is made and spends the guard (the writes after
// it follow whatever the record then holds); a write that is not lasting
// (a counter, a short-lived record) is not guarded. A guarded write to the
// record itself (a sign-out everywhere writing the revocation it was let
// in on) is made against what was read.
func TestAGuardedWriteIsRefusedOnceItsRecordChanged(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, s store.Store) {
		bg := context.Background()
		end := store.Key("revoked-user", "r", "alice")
		guard := func() (*store.Guard, context.Context) {
			var b store.Batch
			read := b.Get(end)
			if err := store.Do(bg, s, &b); err != nil {
				t.Fatal(err)
			}
			g := store.NewGuard(read)
			return g, store.Lasting(store.WithGuard(bg, g))
		}
		revoke := func(at string) {
			if err := s.Put(bg, end, []byte(at), 0); err != nil {
				t.Fatal(err)
			}
		}
		writes := map[string]func(ctx context.Context, key string) error{
			"update": func(ctx context.Context, key string) error {
				return s.Update(ctx, key, func([]byte, bool) ([]byte, time.Duration, error) { return []byte("new"), 0, nil })
			},
			"put": func(ctx context.Context, key string) error { return s.Put(ctx, key, []byte("new"), time.Hour) },
			"put-if-absent": func(ctx context.Context, key string) error {
				_, err := s.PutIfAbsent(ctx, key, []byte("new"), 0)
				return err
			},
			"delete": func(ctx context.Context, key string) error { return s.Delete(ctx, key) },
			"take": func(ctx context.Context, key string) error {
				_, err := s.Take(ctx, key)
				return err
			},
			"claim": func(ctx context.Context, key string) error {
				var reads store.Batch
				read := reads.Get(key)
				if err := store.Do(bg, s, &reads); err != nil && !errors.Is(err, store.ErrNotFound) {
					return err
				}
				c, ok := s.(store.Claimer)
				if !ok {
					t.Skip("not a Claimer")
				}
				var b store.Batch
				b.Claim(store.Swap{Key: key, Read: read, Value: []byte("new")})
				_, err := c.Claim(ctx, store.ClaimParts(&b))
				return err
			},
		}
		for name, write := range writes {
			key := store.Key("change", name)
			before := []byte("old")
			if name == "put-if-absent" {
				before = nil
			} else if err := s.Put(bg, key, before, 0); err != nil {
				t.Fatal(err)
			}
			g, ctx := guard()
			revoke("1-" + name) // between the read and the write
			if err := write(ctx, key); !errors.Is(err, store.ErrGuardBroken) || !g.Broken() {
				t.Errorf("%s after the record changed: %v (broken %v), want ErrGuardBroken", name, err, g.Broken())
			}
			if got, _ := s.Get(bg, key); string(got) != string(before) {
				t.Errorf("%s after the record changed wrote %q, want %q kept", name, got, before)
			}

			// Unchanged: written, and the guard spent.
			g, ctx = guard()
			if err := write(ctx, key); err != nil || g.Broken() {
				t.Errorf("%s, the record unchanged: %v (broken %v)", name, err, g.Broken())
			}
			revoke("2-" + name)
			if err := s.Put(ctx, store.Key("after", name), []byte("x"), 0); err != nil {
				t.Errorf("a write after the guard was spent by %s: %v", name, err)
			}
		}

		// Not lasting: no guard.
		g, _ := guard()
		revoke("3")
		if err := s.Put(store.WithGuard(bg, g), store.Key("challenge"), []byte("x"), time.Minute); err != nil {
			t.Errorf("a short-lived record under a guard: %v", err)
		}
		// The record itself, written against what the guard read.
		g, ctx := guard()
		if err := s.Update(ctx, end, func([]byte, bool) ([]byte, time.Duration, error) { return []byte("4"), 0, nil }); err != nil {
			t.Errorf("a write of the guard's own record: %v", err)
		}
		g, ctx = guard()
		revoke("5")
		if err := s.Update(ctx, end, func([]byte, bool) ([]byte, time.Duration, error) { return []byte("6"), 0, nil }); !errors.Is(err, store.ErrGuardBroken) {
			t.Errorf("a write of the guard's own record, changed since: %v, want ErrGuardBroken", err)
		}
		_ = g
	})
}
