package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

func TestBadgerConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) storetest.Opened {
		dir, closeDB := t.TempDir(), func() error { return nil }
		t.Cleanup(func() { _ = closeDB() })
		open := func() store.Store {
			s, c, err := store.OpenBadger(dir)
			if err != nil {
				t.Fatal(err)
			}
			closeDB = c
			return s
		}
		return storetest.Opened{
			Store: open(),
			Reopen: func() store.Store {
				err := closeDB()
				closeDB = func() error { return nil }
				if err != nil {
					t.Fatal(err)
				}
				return open()
			},
			Sweep: func(s store.Store, now time.Time) { store.SweepWindows(s, now) },
		}
	})
}

func TestBadgerSurvivesReopen(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
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
	defer store.SetCloseTimeout(store.SetCloseTimeout(200 * time.Millisecond)) // not parallel: every close waits this long
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
	t.Parallel()
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
	set := func(v []byte, err error) func([]byte, bool) ([]byte, time.Duration, error) {
		return func([]byte, bool) ([]byte, time.Duration, error) { return v, 0, err }
	}
	step("an update", 1, func() error { return s.Update(lasting, "list", set([]byte("l"), nil)) })
	step("an update that changed nothing", 0, func() error { return s.Update(lasting, "list", set(nil, store.ErrUnchanged)) })
	step("an update of a short-lived record", 0, func() error { return s.Update(ctx, "list", set([]byte("m"), nil)) })
	step("an update that deletes", 1, func() error { return s.Update(lasting, "list", set(nil, nil)) })
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

// TestBadgerWindowsSurviveRestart: a window is in memory, and on disk one
// key per send; a restart, or a window forgotten by the sweep, reads it
// back exactly.
func TestBadgerWindowsSurviveRestart(t *testing.T) {
	t.Parallel()
	ctx, now := context.Background(), time.Now()
	s := restarted(t, func(s store.Store) {
		threeSends(t, s, now)
		if err := s.Unslide(ctx, "limit/ip/x", "b"); err != nil {
			t.Fatal(err)
		}
	})
	slide := func(id string, at time.Duration) (bool, time.Duration) {
		t.Helper()
		ok, wait, err := s.Slide(ctx, "limit/ip/x", id, 3, time.Hour, now.Add(at))
		if err != nil {
			t.Fatal(err)
		}
		return ok, wait
	}
	if ok, _ := slide("d", 5*time.Minute); !ok {
		t.Fatal("after a restart, a refunded send still counts")
	}
	if ok, wait := slide("e", 10*time.Minute); ok || wait != 50*time.Minute {
		t.Fatalf("after a restart: ok=%v wait=%v; want refused for 50m (a's time)", ok, wait)
	}
	// Forgotten by the sweep (as if its keys had expired), then used again.
	if n := store.SweepWindows(s, now); n != 1 {
		t.Fatalf("a live window was swept: %d open", n)
	}
	if n := store.SweepWindows(s, now.Add(2*time.Hour)); n != 0 {
		t.Fatalf("an expired window was kept: %d open", n)
	}
	if ok, wait := slide("e", 10*time.Minute); ok || wait != 50*time.Minute {
		t.Fatalf("after a sweep: ok=%v wait=%v; want refused for 50m", ok, wait)
	}
}

// TestBadgerKeepsALongWindowAcrossARestart: a window counted with an hour
// and with a minute (two gates with another window for one limit) keeps
// its sends for the hour after a restart too: the first count after it,
// the minute's, trims nothing the hour's counts.
func TestBadgerKeepsALongWindowAcrossARestart(t *testing.T) {
	t.Parallel()
	ctx, now := context.Background(), time.Now()
	s := restarted(t, func(s store.Store) { threeSends(t, s, now) })
	if ok, _, err := s.Slide(ctx, "limit/ip/x", "m", 3, time.Minute, now.Add(5*time.Minute)); err != nil || !ok {
		t.Fatal("the minute's window refused:", ok, err)
	}
	if ok, wait, err := s.Slide(ctx, "limit/ip/x", "d", 3, time.Hour, now.Add(6*time.Minute)); err != nil || ok || wait != 55*time.Minute {
		t.Fatalf("the hour's window after a restart and the minute's: ok=%v wait=%v (%v); want refused for 55m", ok, wait, err)
	}
}

// threeSends counts a, b and c at now and the next two minutes in the
// hour's window limit/ip/x (of 3).
func threeSends(t *testing.T, s store.Store, now time.Time) {
	t.Helper()
	for i, id := range []string{"a", "b", "c"} {
		if ok, _, err := s.Slide(context.Background(), "limit/ip/x", id, 3, time.Hour, now.Add(time.Duration(i)*time.Minute)); err != nil || !ok {
			t.Fatal(ok, err)
		}
	}
}

// restarted is a Badger store that fill wrote to, closed and opened again
// (closed at the test's end).
func restarted(t *testing.T, fill func(store.Store)) store.Store {
	t.Helper()
	dir := t.TempDir()
	s, closeDB, err := store.OpenBadger(dir)
	if err != nil {
		t.Fatal(err)
	}
	fill(s)
	if err := closeDB(); err != nil {
		t.Fatal(err)
	}
	s, closeDB, err = store.OpenBadger(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = closeDB() })
	return s
}

// TestBadgerReadsOldWindows: the previous release kept a window as one
// JSON record at the window's key; its sends still count, it is moved to
// one key per send, and a move cut short counts no send twice.
func TestBadgerReadsOldWindows(t *testing.T) {
	t.Parallel()
	dir, ctx := t.TempDir(), context.Background()
	now := time.Now()
	s, closeDB, err := store.OpenBadger(dir)
	if err != nil {
		t.Fatal(err)
	}
	at := func(m int) time.Time { return now.Add(time.Duration(m) * time.Minute) }
	// What the previous release's Slide wrote: the record, with the window's TTL.
	old := fmt.Sprintf(`{"i":["a","b","c"],"t":[%d,%d,%d]}`, at(0).UnixNano(), at(1).UnixNano(), at(2).UnixNano())
	if err := s.Put(ctx, "limit/country/US", []byte(old), time.Hour); err != nil {
		t.Fatal(err)
	}
	// ...and a move cut short: one send already moved.
	if err := s.Put(ctx, store.EventKey("limit/country/US", at(1), "b"), nil, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := closeDB(); err != nil {
		t.Fatal(err)
	}
	s, closeDB, err = store.OpenBadger(dir)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, err := s.Slide(ctx, "limit/country/US", "d", 4, time.Hour, at(3)); err != nil || !ok {
		t.Fatalf("the fourth send of four: %v %v", ok, err)
	}
	if ok, wait, err := s.Slide(ctx, "limit/country/US", "e", 4, time.Hour, at(4)); err != nil || ok || wait != 56*time.Minute {
		t.Fatalf("a fifth send: ok=%v wait=%v err=%v; want refused for 56m (the old record's first send)", ok, wait, err)
	}
	if _, err := s.Get(ctx, "limit/country/US"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the old record is still there: %v", err)
	}
	if err := s.Unslide(ctx, "limit/country/US", "a"); err != nil {
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
	if ok, _, _ := s.Slide(ctx, "limit/country/US", "e", 4, time.Hour, at(4)); !ok {
		t.Fatal("an old send given back still counts after a restart")
	}
	if ok, wait, _ := s.Slide(ctx, "limit/country/US", "f", 4, time.Hour, at(5)); ok || wait != 56*time.Minute {
		t.Fatalf("after the move and a restart: ok=%v wait=%v; want refused for 56m (b)", ok, wait)
	}
}

// BenchmarkBadgerSlide: one send into a window that holds a steady
// number of sends, alone and from every core on one window
// (benchmarkSlide). A send's cost must not grow with what the window
// holds, and concurrent sends must not fail.
//
//	go test ./store -run '^$' -bench BadgerSlide -benchtime 2000x
func BenchmarkBadgerSlide(b *testing.B) {
	benchmarkSlide(b, func(b *testing.B) (store.Store, func(func())) {
		s, closeDB, err := store.OpenBadger(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = closeDB() })
		return s, func(run func()) { run() }
	})
}

// TestBadgerWaitsOutAForkedLock: a folder lock held a moment past the
// holder's close — what a child forked in that moment does until it execs —
// delays an open instead of failing it; a lock held for good still fails.
// The open's wait is set to an hour for the first (the lock, released
// after 300 ms, is waited out however slow the machine: before, a loaded
// one could take the 2 s of the real wait to release it), and short for
// the second (nobody waits it out); so the test is not parallel.
func TestBadgerWaitsOutAForkedLock(t *testing.T) {
	dir := t.TempDir()
	hold := func() *os.File {
		f, err := os.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		// Waits, as Badger does not: a child forked by a parallel test
		// may still hold the lock Badger's close let go of.
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			t.Fatal(err)
		}
		return f
	}
	old := store.SetLockWait(time.Hour)
	defer store.SetLockWait(old)
	first := hold()
	time.AfterFunc(300*time.Millisecond, func() { first.Close() })
	_, closeDB, err := store.OpenBadger(dir)
	if err != nil {
		t.Fatalf("a lock released after 300 ms: %v", err)
	}
	if err := closeDB(); err != nil {
		t.Fatal(err)
	}
	store.SetLockWait(100 * time.Millisecond)
	f := hold()
	defer f.Close()
	if _, _, err := store.OpenBadger(dir); err == nil || !strings.Contains(err.Error(), "Another process") {
		t.Fatalf("a lock held for good: %v, want Badger's error", err)
	}
}
