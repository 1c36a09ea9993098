package enrollment

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// pairWatch is a store that counts the wrong codes compared from one
// address (each an Incr of the (user, IP) count).
type pairWatch struct {
	store.Store
	key     string
	counted atomic.Int64
}

func (f *pairWatch) Incr(ctx context.Context, k string, ttl time.Duration) (int64, error) {
	if k == f.key {
		f.counted.Add(1)
	}
	return f.Store.Incr(ctx, k, ttl)
}

// TestABurstFromOneAddressGetsLockoutAfterCompared: lockout_after 3,
// max_failures 100: 60 wrong app codes sent at once from one address get
// at most 3 compared, and 60 wrong texted codes at once (to one
// challenge allowing 100 tries) as many; the rest are answered locked, unchecked. Each try
// takes a slot among lockout_after from its address in the batch that
// reads the locks (takeFailureAt), as it does among max_failures for the
// account. Before (attack40 H1), every try that read the locks before the
// address's lock was written was compared: 60 of 60 on Redis. The address
// is locked, the account is not (another address signs in), and once the
// lock ends the address signs in too.
func TestABurstFromOneAddressGetsLockoutAfterCompared(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		there := Scope{Realm: realm, Host: host, IP: "203.0.113.9"}
		w := &pairWatch{Store: st, key: failKey(there, alice)}
		s, out, clk := appServiceOn(t, w)
		s.Limits.LockAfter, s.Limits.MaxFailures = 3, 100
		secret := withApp(t, s, clk)
		clk.advance(time.Minute)
		ctx := context.Background()
		code := func() string {
			right, _ := totp.GenerateCodeCustom(secret, clk.now(), appOpts)
			return right
		}
		burst := func(what string, try func(i int) error) {
			t.Helper()
			w.counted.Store(0)
			var wg sync.WaitGroup
			var locked atomic.Int64
			for i := range 60 {
				wg.Go(func() {
					switch err := try(i); {
					case errors.As(err, new(*LockedError)):
						locked.Add(1)
					case errors.As(err, new(*WrongCodeError)), errors.Is(err, ErrTooMany):
					default:
						t.Errorf("%s %d: %v", what, i, err)
					}
				})
			}
			wg.Wait()
			if n := w.counted.Load(); n > 3 || locked.Load() < 57 {
				t.Fatalf("60 wrong %s at once from one address: %d compared, %d answered locked; want at most lockout_after (3) compared, the rest locked",
					what, n, locked.Load())
			}
		}
		burst("app codes", func(int) error {
			_, err := s.Devices.CheckApp(ctx, there, alice, wrongOf(code()))
			return err
		})
		if _, err := s.Devices.CheckApp(ctx, there, alice, code()); !errors.As(err, new(*LockedError)) {
			t.Fatalf("the right app code from the address after the burst: %v, want locked", err)
		}
		if _, err := s.Devices.CheckApp(ctx, Scope{Realm: realm, Host: host, IP: "198.51.100.1"}, alice, code()); err != nil {
			t.Fatalf("the right app code from another address: %v, want signed in (the account is not locked)", err)
		}
		clk.advance(s.Limits.Lockout + appPeriod)
		if _, err := s.Devices.CheckApp(ctx, there, alice, code()); err != nil {
			t.Fatalf("the right app code from the address once its lock ended: %v", err)
		}

		// Texted codes: one challenge whose max_attempts is above the
		// burst (100), so that lockout_after alone holds it.
		s.MaxAttempts = 100
		texting := Scope{Realm: realm, Host: host, IP: there.IP, Provisioned: true}
		c, err := s.Start(ctx, texting, Challenge{User: alice, Phone: num, Purpose: Verify})
		if err != nil {
			t.Fatal(err)
		}
		texted := codeOf(t, out)
		burst("texted codes", func(int) error {
			_, err := s.Check(ctx, texting, c, wrongOf(texted))
			return err
		})
	})
}
