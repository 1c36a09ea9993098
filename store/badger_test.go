package store_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

func TestBadgerConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, closeDB, err := store.OpenBadger(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = closeDB() })
		return s
	})
}

func TestBadgerSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, closeDB, err := store.OpenBadger(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "device", []byte("+14155552671"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Incr(ctx, "count", 0); err != nil {
		t.Fatal(err)
	}
	if err := closeDB(); err != nil {
		t.Fatal(err)
	}

	s, closeDB, err = store.OpenBadger(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer closeDB()
	if v, err := s.Get(ctx, "device"); err != nil || string(v) != "+14155552671" {
		t.Fatalf("after reopen Get = %q, %v", v, err)
	}
	if n, err := s.Incr(ctx, "count", 0); err != nil || n != 2 {
		t.Fatalf("after reopen Incr = %d, %v; want 2", n, err)
	}
}

func TestKeyEscapesSeparators(t *testing.T) {
	if a, b := store.Key("realm", "a/b"), store.Key("realm", "a", "b"); a == b {
		t.Fatalf("Key(realm, a/b) = Key(realm, a, b) = %q", a)
	}
	if got := store.Key("r", "x%2Fy"); got != "r/x%252Fy" {
		t.Fatalf("Key escapes %% as %q", got)
	}
}

// TestCloseDoesNotHangWithoutItsFolder: Badger retries a flush forever if
// its folder is gone; closing must still return.
func TestCloseDoesNotHangWithoutItsFolder(t *testing.T) {
	defer store.SetCloseTimeout(store.SetCloseTimeout(time.Second))
	dir := t.TempDir()
	s, closeDB, err := store.OpenBadger(filepath.Join(dir, "db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(context.Background(), "k", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "db")); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- closeDB() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Close hung past its timeout")
	}
}

// TestLastingWritesAreSynced: what a user is told happened is on disk
// before the answer; short-lived records are not worth an fsync.
func TestLastingWritesAreSynced(t *testing.T) {
	s, closeDB, err := store.OpenBadger(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer closeDB()
	ctx, lasting := context.Background(), store.Lasting(context.Background())
	step := func(what string, want int64, op func() error) {
		t.Helper()
		before := store.Syncs(s)
		if err := op(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if got := store.Syncs(s) - before; got != want {
			t.Fatalf("%s: %d syncs, want %d", what, got, want)
		}
	}
	step("a challenge", 0, func() error { return s.Put(ctx, "challenge", []byte("c"), time.Minute) })
	step("a counter", 0, func() error { _, err := s.Incr(lasting, "count", time.Minute); return err })
	step("a device", 1, func() error { return s.Put(lasting, "device", []byte("d"), 0) })
	step("a first device", 1, func() error { _, err := s.PutIfAbsent(lasting, "first", []byte("d"), 0); return err })
	step("a first device that lost the race", 0, func() error { _, err := s.PutIfAbsent(lasting, "first", []byte("e"), 0); return err })
	step("an invite taken", 1, func() error { _, err := s.Take(lasting, "device"); return err })
	step("a consumed code", 0, func() error { _, err := s.Take(ctx, "challenge"); return err })
	step("a removal", 1, func() error { return s.Delete(lasting, "first") })
	if store.IsLasting(ctx) || !store.IsLasting(lasting) {
		t.Fatal("IsLasting does not tell the contexts apart")
	}
}

// BenchmarkBadgerPut: what syncing a lasting write costs, side by side
// with the short-lived write a counter or challenge makes.
func BenchmarkBadgerPut(b *testing.B) {
	for _, c := range []struct {
		name string
		ctx  context.Context
		ttl  time.Duration
	}{{"short", context.Background(), time.Minute}, {"lasting", store.Lasting(context.Background()), 0}} {
		b.Run(c.name, func(b *testing.B) {
			s, closeDB, err := store.OpenBadger(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			defer closeDB()
			value := []byte(`[{"id":"a1b2c3","phone":"+14155552671","name":"phone"}]`)
			for i := 0; b.Loop(); i++ {
				if err := s.Put(c.ctx, "device/"+strconv.Itoa(i), value, c.ttl); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
