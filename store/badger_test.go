package store_test

import (
	"context"
	"os"
	"path/filepath"
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
