package enrollment

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
)

// heldWrite holds a caller whose context it marked right before its first
// write of key (a Put or an Update), until released.
type heldWrite struct {
	store.Store
	key              string
	once             sync.Once
	reached, release chan struct{}
}

type heldWriteKey struct{}

func (h *heldWrite) hold(ctx context.Context, key string) {
	if key == h.key && ctx.Value(heldWriteKey{}) == h {
		h.once.Do(func() { close(h.reached); <-h.release })
	}
}

func (h *heldWrite) Put(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	h.hold(ctx, key)
	return h.Store.Put(ctx, key, value, ttl)
}

func (h *heldWrite) Update(ctx context.Context, key string, change func([]byte, bool) ([]byte, time.Duration, error)) error {
	h.hold(ctx, key)
	return h.Store.Update(ctx, key, change)
}

// TestALockIsNeverShortened: the 10th wrong code from one user and IP
// begins a lock of a minute, and is held right before it writes it while
// ten more come from there: the 20th begins the next round's lock, two
// minutes, written first. The 10th's write, let go, must not shorten it:
// the lock holds two minutes. On Badger and on a real Redis. (Before, the
// lock was a plain write, and the one written last won: a minute.)
func TestALockIsNeverShortened(t *testing.T) {
	t.Parallel()
	onRaceStores(t, func(t *testing.T, st store.Store) {
		h := &heldWrite{Store: st, reached: make(chan struct{}), release: make(chan struct{})}
		s, _, _ := raceService(t, h)
		s.Limits.LockAfter, s.Limits.Lockout, s.Limits.MaxFailures = 10, time.Minute, 1000
		sc, ctx := enrolled, context.Background()
		h.key = lockKey(sc, "alice")
		wrong := func(ctx context.Context) *LockedError {
			locked, err := s.recordFailure(ctx, sc, "alice", false)
			if err != nil {
				t.Error(err)
			}
			return locked
		}
		for range 9 {
			wrong(ctx)
		}
		tenth := make(chan *LockedError)
		go func() { tenth <- wrong(context.WithValue(ctx, heldWriteKey{}, h)) }()
		<-h.reached
		var twentieth *LockedError
		for range 10 {
			twentieth = wrong(ctx)
		}
		if twentieth == nil || twentieth.Wait != 2*time.Minute {
			t.Fatalf("the 20th wrong code: %v, want a lock of 2m", twentieth)
		}
		close(h.release)
		<-tenth
		var locked *LockedError
		if err := s.checkLock(ctx, sc, "alice"); !errors.As(err, &locked) || locked.Wait != 2*time.Minute {
			t.Fatalf("the lock after the 10th wrong code's write, let go after the 20th's: %v, want 2m", err)
		}
	})
}

// TestARefusedGuessKeepsALongerLock: a guess refused for a full window
// locks the account until the window's oldest guess leaves it — seconds,
// maybe — while a wrong code at once has just begun the MaxFailures lock
// (15 minutes) on the same record: the refusal must not shorten it. On
// Badger and on a real Redis. (Before, the refusal's lock was a plain
// write: the account locked for 5 s, the failures already forgotten.)
func TestARefusedGuessKeepsALongerLock(t *testing.T) {
	t.Parallel()
	onRaceStores(t, func(t *testing.T, st store.Store) {
		s, _, _ := raceService(t, st)
		sc, ctx := enrolled, context.Background()
		if _, err := s.lockUntil(ctx, lockUserKey(sc, "alice"), s.Now().Add(15*time.Minute)); err != nil {
			t.Fatal(err)
		}
		refused := &guess{op: &store.Op{Wait: 5 * time.Second}}
		var locked *LockedError
		if err := s.guessRefused(ctx, sc, "alice", refused); !errors.As(err, &locked) || locked.Wait != 15*time.Minute {
			t.Fatalf("the refused guess answered %v; want the 15m lock", err)
		}
		if err := s.checkLock(ctx, sc, "alice"); !errors.As(err, &locked) || locked.Wait != 15*time.Minute {
			t.Fatalf("the lock after a refused guess: %v; want 15m", err)
		}
	})
}

// TestOneWrongCodeStartsBothLocks: with lockout_after 3 and max_failures
// 3, the third wrong code reaches both limits: the account is locked for
// AccountLockout (15 minutes) and the address for lockout (an hour), each
// as configured. On Badger and on a real Redis. (Before, only the account
// lock started: past the 15 minutes the address could guess again.)
func TestOneWrongCodeStartsBothLocks(t *testing.T) {
	t.Parallel()
	onRaceStores(t, func(t *testing.T, st store.Store) {
		s, _, clk := raceService(t, st)
		s.Limits.LockAfter, s.Limits.Lockout, s.Limits.MaxFailures = 3, time.Hour, 3
		sc, ctx := enrolled, context.Background()
		var third *LockedError
		for range 3 {
			var err error
			if third, err = s.recordFailure(ctx, sc, "alice", true); err != nil {
				t.Fatal(err)
			}
		}
		if third == nil || !third.Started || !third.Account || third.Wait != time.Hour || third.AccountWait != AccountLockout {
			t.Fatalf("the third wrong code: %+v, want both locks begun: the address's for 1h, the account's for 15m", third)
		}
		var locked *LockedError
		if err := s.checkLock(ctx, sc, "alice"); !errors.As(err, &locked) || !locked.Account || locked.Wait != AccountLockout {
			t.Fatalf("the lock after the third wrong code: %v, want the account's, 15m", err)
		}
		clk.advance(AccountLockout + time.Minute)
		if err := s.checkLock(ctx, sc, "alice"); !errors.As(err, &locked) || locked.Account || locked.Wait != 44*time.Minute {
			t.Fatalf("16m after the third wrong code: %v, want the address still locked for 44m", err)
		}
		other := sc
		other.IP = "192.0.2.2"
		if err := s.checkLock(ctx, other, "alice"); err != nil {
			t.Fatalf("16m after, from another address: %v, want no lock (the account's ended)", err)
		}
	})
}

// lockWriteFails is a store that fails every write of the lock at key.
type lockWriteFails struct {
	store.Store
	key string
}

func (f *lockWriteFails) Update(ctx context.Context, key string, change func([]byte, bool) ([]byte, time.Duration, error)) error {
	if key == f.key {
		return errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")
	}
	return f.Store.Update(ctx, key, change)
}

// TestAnAccountLockHoldsWhenTheAddresssFails: the third wrong code
// reaches both limits (lockout_after 3, max_failures 3); the store writes
// the account's lock, then fails the address's. The account's lock is
// answered (begun, for 15 minutes: its notice goes out), the address's
// failure carried for the log, and the account's count begins afresh.
// On Badger, a real Redis and a Cluster. Before, the store's error was answered:
// the lock held, untold, its count already gone.
func TestAnAccountLockHoldsWhenTheAddresssFails(t *testing.T) {
	t.Parallel()
	onRaceStoresAndCluster(t, func(t *testing.T, st store.Store) {
		sc, ctx := enrolled, context.Background()
		s, _, _ := raceService(t, &lockWriteFails{Store: st, key: lockKey(sc, "alice")})
		s.Limits.LockAfter, s.Limits.Lockout, s.Limits.MaxFailures = 3, time.Hour, 3
		var third *LockedError
		for i := range 3 {
			var err error
			if third, err = s.recordFailure(ctx, sc, "alice", true); err != nil {
				t.Fatalf("wrong code %d: %v; want the account's lock answered", i+1, err)
			}
		}
		if third == nil || !third.Started || !third.Account || third.AccountWait != AccountLockout || third.Wait != AccountLockout || third.Unwritten == nil {
			t.Fatalf("the third wrong code: %+v; want the account's lock begun (15m), the address's failure carried", third)
		}
		var locked *LockedError
		if err := s.checkLock(ctx, sc, "alice"); !errors.As(err, &locked) || !locked.Account || locked.Wait != AccountLockout {
			t.Fatalf("the lock after the third wrong code: %v, want the account's, 15m", err)
		}
		if n, err := s.Store.Incr(ctx, failUserKey(sc, "alice"), failureMemory); err != nil || n != 1 {
			t.Errorf("the account's count after its lock: %d (%v); want a new count", n, err)
		}
	})
}
