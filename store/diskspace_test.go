package store_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/harness"
	"github.com/smsgate/caddy-smsgate/store"
)

// TestFullDiskRefusesWritesInsteadOfCrashing: on a disk that fills up
// while it runs (a size-limited tmpfs), the Badger store refuses writes
// with ErrDiskFull, keeps answering reads, never dies of SIGBUS, and
// writes again once space is freed; a store cannot be opened on a disk
// that is already too full.
func TestFullDiskRefusesWritesInsteadOfCrashing(t *testing.T) {
	t.Parallel()
	disk := harness.SmallDisk(t, store.DiskReserve+48<<20)
	s, closeDB, err := store.OpenBadger(filepath.Join(disk, "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = closeDB() })
	ctx := context.Background()
	if err := s.Put(ctx, "device/alice", []byte("a phone"), 0); err != nil {
		t.Fatal(err)
	}

	// Something else on the disk fills it, leaving less than the reserve.
	freeSpace := harness.Fill(t, disk)
	value := []byte(strings.Repeat("x", 1000))
	refused := false
	for start := time.Now(); time.Since(start) < 5*time.Second && !refused; {
		err := s.Put(ctx, fmt.Sprint("challenge/", time.Now().UnixNano()), value, time.Minute)
		refused = errors.Is(err, store.ErrDiskFull)
		if err != nil && !refused {
			t.Fatalf("a write on a full disk: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !refused {
		t.Fatal("writes were not refused on a full disk")
	}
	for i := 0; i < 1000; i++ { // what used to kill the process
		if _, err := s.Incr(ctx, "limit/ip", time.Minute); !errors.Is(err, store.ErrDiskFull) {
			t.Fatalf("write %d on a full disk: %v", i, err)
		}
	}
	if v, err := s.Get(ctx, "device/alice"); err != nil || string(v) != "a phone" {
		t.Fatalf("a read on a full disk: %q, %v", v, err)
	}
	if _, _, err := store.OpenBadger(filepath.Join(disk, "another")); err == nil || !strings.Contains(err.Error(), "MiB free") {
		t.Fatalf("opening a store on a full disk: %v", err)
	}

	// Space is freed: writes resume by themselves.
	freeSpace()
	for start := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		err := s.Put(ctx, "device/bob", []byte("a phone"), 0)
		if err == nil {
			break
		}
		if !errors.Is(err, store.ErrDiskFull) || time.Since(start) > 5*time.Second {
			t.Fatalf("after space was freed: %v", err)
		}
	}
}

// TestImmutableFolderRefusesWritesInsteadOfCrashing: the Badger folder is
// made immutable (chattr +i) while it runs: writes are refused with
// ErrUnwritable instead of a SIGBUS, reads go on, and writes resume when
// the flag is lifted.
func TestImmutableFolderRefusesWritesInsteadOfCrashing(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "db")
	s, closeDB, err := store.OpenBadger(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Put(ctx, "device/alice", []byte("a phone"), 0); err != nil {
		t.Fatal(err)
	}
	lift := harness.Immutable(t, dir)
	t.Cleanup(func() { lift(); _ = closeDB() })
	for i := 0; i < 100; i++ {
		if err := s.Put(ctx, fmt.Sprint("challenge/", i), []byte("c"), time.Minute); !errors.Is(err, store.ErrUnwritable) {
			t.Fatalf("write %d to an immutable folder: %v", i, err)
		}
	}
	if v, err := s.Get(ctx, "device/alice"); err != nil || string(v) != "a phone" {
		t.Fatalf("a read from an immutable folder: %q, %v", v, err)
	}
	lift()
	if err := s.Put(ctx, "device/bob", []byte("a phone"), 0); err != nil {
		t.Fatalf("after the flag was lifted: %v", err)
	}
}
