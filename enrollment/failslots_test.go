package enrollment

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// failWatch is a store that counts the wrong codes counted account-wide
// (each an Incr of the account's count: a code compared and wrong), and
// fails the next failLists reads of a user's devices, as a store that went
// away for a moment.
type failWatch struct {
	store.Store
	counted   atomic.Int64
	failLists atomic.Int64
}

func (f *failWatch) Incr(ctx context.Context, k string, ttl time.Duration) (int64, error) {
	if k == failUserKey(Scope{Realm: realm}, alice) {
		f.counted.Add(1)
	}
	return f.Store.Incr(ctx, k, ttl)
}

func (f *failWatch) Get(ctx context.Context, k string) ([]byte, error) {
	if k == deviceKey(realm, alice) && f.failLists.Add(-1) >= 0 {
		return nil, errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")
	}
	return f.Store.Get(ctx, k)
}

// onBothStores runs test with a service on Badger and on Redis (watched:
// failWatch), alice holding an app (its secret) and MaxFailures 3.
func onBothStores(t *testing.T, test func(t *testing.T, s *Challenges, w *failWatch, out *outbox, clk *clock, secret string)) {
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		w := &failWatch{Store: st}
		s, out, clk := appServiceOn(t, w)
		s.Limits.LockAfter = 1000
		s.Limits.MaxFailures = 3
		secret := withApp(t, s, clk)
		clk.advance(time.Minute) // the step the app was confirmed with is used
		test(t, s, w, out, clk, secret)
	})
}

// TestMaxFailuresHoldUnderConcurrency: 60 wrong app codes for alice at
// once, each from its own IP, get at most MaxFailures (3) compared: each
// takes a slot among them in the batch that reads the locks (takeFailure),
// and the rest are refused unchecked, the account locked. Before, every
// try that read the locks before the lock was written was compared.
func TestMaxFailuresHoldUnderConcurrency(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, s *Challenges, w *failWatch, _ *outbox, clk *clock, secret string) {
		ctx := context.Background()
		right, _ := totp.GenerateCodeCustom(secret, clk.now(), appOpts)
		var wg sync.WaitGroup
		var mu sync.Mutex
		locked := 0
		for i := range 60 {
			wg.Go(func() {
				stranger := Scope{Realm: realm, Host: host, IP: fmt.Sprintf("10.2.0.%d", i+1)}
				_, err := s.Devices.CheckApp(ctx, stranger, alice, wrongOf(right))
				var l *LockedError
				switch {
				case errors.As(err, &l) && l.Account:
					mu.Lock()
					locked++
					mu.Unlock()
				case !errors.As(err, new(*WrongCodeError)):
					t.Errorf("try %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		if n := w.counted.Load(); n > 3 || locked < 57 {
			t.Fatalf("60 wrong codes at once: %d compared, %d answered locked; want at most MaxFailures (3) compared, the rest locked", n, locked)
		}
		if _, err := s.Devices.CheckApp(ctx, Scope{Realm: realm, Host: host, IP: "10.2.1.1"}, alice, right); !errors.As(err, new(*LockedError)) {
			t.Fatalf("the right code after the burst: %v, want the account locked", err)
		}
	})
}

// TestTriesNotComparedGiveTheirFailureSlotBack: a try that took a slot
// among MaxFailures and compared no code gives it back — an expired
// challenge, an app confirmed with no setup begun, the store failing to
// read the user's apps, a passkey answer with no ceremony — so that such
// tries, however many, lock nobody; a right code after wrong ones still
// signs in, and empties the window (MaxFailures wrong codes in a row lock);
// and the window forgets its slots once a lock has passed.
func TestTriesNotComparedGiveTheirFailureSlotBack(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, s *Challenges, w *failWatch, out *outbox, clk *clock, secret string) {
		ctx := context.Background()
		try := Scope{Realm: realm, Host: host, IP: "198.51.100.7", Provisioned: true}
		c, err := s.Start(ctx, try, Challenge{User: alice, Phone: num, Purpose: Verify})
		if err != nil {
			t.Fatal(err)
		}
		texted := codeOf(t, out)
		clk.advance(s.CodeTTL + time.Second)
		for i := range 5 {
			if _, err := s.Check(ctx, try, c, wrongOf(texted)); !errors.Is(err, ErrExpired) {
				t.Fatalf("try %d of an expired code: %v", i, err)
			}
			if _, _, err := s.Devices.ConfirmApp(ctx, try, alice, "000000", ""); !errors.Is(err, ErrNoAppSetup) {
				t.Fatalf("confirm %d with no setup: %v", i, err)
			}
			w.failLists.Store(1)
			if _, err := s.Devices.CheckApp(ctx, try, alice, "000000"); err == nil || errors.As(err, new(*LockedError)) || errors.As(err, new(*WrongCodeError)) {
				t.Fatalf("app code %d with the store failing: %v", i, err)
			}
			if _, _, err := s.Devices.FinishPasskeyLogin(ctx, try, alice, "no-ceremony", nil); !errors.Is(err, ErrPasskey) {
				t.Fatalf("passkey answer %d with no ceremony: %v", i, err)
			}
		}
		if n := w.counted.Load(); n != 0 {
			t.Fatalf("%d wrong codes counted; want none", n)
		}
		for i := range 4 { // right codes give their slots back
			clk.advance(time.Minute)
			c, err := s.Start(ctx, try, Challenge{User: alice, Phone: num, Purpose: Verify})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Check(ctx, try, c, codeOf(t, out)); err != nil {
				t.Fatalf("texted sign-in %d: %v", i, err)
			}
		}
		code := func() string {
			clk.advance(appPeriod)
			right, _ := totp.GenerateCodeCustom(secret, clk.now(), appOpts)
			return right
		}
		for i := range 2 {
			if _, err := s.Devices.CheckApp(ctx, try, alice, wrongOf(code())); !errors.As(err, new(*WrongCodeError)) {
				t.Fatalf("wrong code %d: %v", i, err)
			}
		}
		if _, err := s.Devices.CheckApp(ctx, try, alice, code()); err != nil {
			t.Fatalf("the right code after two wrong ones: %v", err)
		}
		if _, err := s.Devices.CheckApp(ctx, try, alice, wrongOf(code())); !errors.As(err, new(*WrongCodeError)) {
			t.Fatalf("a wrong code after a right one: %v", err)
		}
		// A right code empties the window: MaxFailures counts wrong codes
		// in a row. (Before, the two wrong codes before the right one
		// still held their slots: this right code was refused, the
		// account locked.)
		if _, err := s.Devices.CheckApp(ctx, try, alice, code()); err != nil {
			t.Fatalf("the right code after two wrong ones, a right one and a wrong one: %v, want signed in", err)
		}
		// MaxFailures still holds for codes one after another.
		for i := range 2 {
			if _, err := s.Devices.CheckApp(ctx, try, alice, wrongOf(code())); !errors.As(err, new(*WrongCodeError)) {
				t.Fatalf("wrong code %d in a row: %v", i, err)
			}
		}
		var locked *LockedError
		if _, err := s.Devices.CheckApp(ctx, try, alice, wrongOf(code())); !errors.As(err, &locked) || !locked.Account || !locked.Started {
			t.Fatalf("the third wrong code in a row: %v, want the account locked", err)
		}
		if _, err := s.Devices.CheckApp(ctx, try, alice, code()); !errors.As(err, &locked) || !locked.Account {
			t.Fatalf("the right code during the lock: %v, want the account locked", err)
		}
		// Once the lock ends, so have the slots taken before it.
		clk.advance(AccountLockout)
		if _, err := s.Devices.CheckApp(ctx, try, alice, code()); err != nil {
			t.Fatalf("the right code after the lock: %v", err)
		}
		if n := w.counted.Load(); n != 6 {
			t.Fatalf("%d wrong codes counted; want 6", n)
		}
	})
}
