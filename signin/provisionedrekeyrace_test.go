package signin

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/clock"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// rekeyMidSettle is a store that, once armed, runs fire before the next
// update of carol's provisioned record in realm r: the gate adopting the
// store's new secret (Service.Rekey) between a settle's read and its
// write.
type rekeyMidSettle struct {
	store.Store
	armed atomic.Bool
	fire  func()
}

func (r *rekeyMidSettle) Update(ctx context.Context, key string, change func([]byte, bool) ([]byte, time.Duration, error)) error {
	if key == provisionedKey("r", "carol") && r.armed.CompareAndSwap(true, false) {
		r.fire()
	}
	return r.Store.Update(ctx, key, change)
}

const (
	rekeyA, rekeyB = "+14155552671", "+447400123456" // carol's first number (her `user` line's), and a second
	rekeyNew       = "fedcba9876543210fedcba9876543210"
)

// rekeyFixture: carol at a gate of realm r on st, settled as given
// first, with the thief's phone X added from a session of her first
// number.
func rekeyFixture(t *testing.T, st store.Store, first map[string][]string) *Service {
	t.Helper()
	ctx := context.Background()
	s := newServiceOn(st, nil)
	s.Logger, s.Notices = zap.NewNop(), new(counted)
	s.GiveNumbers(first)
	if err := SettleProvisioned(ctx, "r", time.Time{}, []*Service{s}, first); err != nil {
		t.Fatal(err)
	}
	x := enrollment.Device{ID: "x", Kind: factor.Phone, Phone: "+14155559001", Name: "X", AddedBy: s.numberMark(rekeyA)}
	raw, _ := json.Marshal([]enrollment.Device{x})
	if err := st.Put(ctx, store.Key("device", "r", "carol"), raw, 0); err != nil {
		t.Fatal(err)
	}
	return s
}

// xRemoved: a config giving carol her second number alone removes X.
func xRemoved(t *testing.T, s *Service) {
	t.Helper()
	ctx := context.Background()
	only := map[string][]string{"carol": {rekeyB}}
	s.GiveNumbers(only)
	if err := SettleProvisioned(ctx, "r", time.Time{}, []*Service{s}, only); err != nil {
		t.Fatal(err)
	}
	if list, err := s.Devices.List(ctx, "r", "carol"); err != nil || len(list) != 0 {
		t.Fatalf("X stayed once the number it came from went: %+v %v", list, err)
	}
}

// TestARekeyDuringTheSettleLeavesNoRecordOfTheOldKey: a config gives
// carol a second number; while its settle runs (its record's key made,
// the record read), the gate adopts the store's new secret and re-keys
// the record first. The settle does not write its record of the old key
// over it (errSettleRaced: the retry settles under the new key), and a
// config taking her first number away removes X. On Badger and Redis.
// (Before: the settle wrote the old key's record back, which the gate's
// settles could only replace, and X stayed.)
func TestARekeyDuringTheSettleLeavesNoRecordOfTheOldKey(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, inner store.Store) {
		ctx := context.Background()
		st := &rekeyMidSettle{Store: inner}
		s := rekeyFixture(t, st, map[string][]string{"carol": {rekeyA}})
		both := map[string][]string{"carol": {rekeyA, rekeyB}}
		s.GiveNumbers(both)
		st.fire = func() { s.Rekey("r", []byte(rekeyNew)) }
		st.armed.Store(true)
		if err := SettleProvisioned(ctx, "r", time.Time{}, []*Service{s}, both); err != nil && !errors.Is(err, errSettleRaced) {
			t.Fatal(err)
		}
		if st.armed.Load() {
			t.Fatal("the secret was not adopted during the settle")
		}
		got, err := inner.Get(ctx, provisionedKey("r", "carol"))
		if f := strings.Fields(string(got)); err != nil || len(f) == 0 || f[0] != s.Devices.NumberID(keyCheck) {
			t.Fatalf("the record after a settle the new secret raced: %q %v, not of the gate's key", got, err)
		}
		xRemoved(t, s)
	})
}

// TestARekeyAfterAReloadEndsWhatTheLostNumberAdded: carol is given two
// numbers, X added from the first's session; a reload gives her the
// second alone, and the gate adopts the store's new secret before that
// config's settle. The re-keying ends what the number no longer given
// earned, as the settle would have (X removed). On Badger and Redis.
// (Before: the re-keying dropped the lost number's hash, the settle
// under the new key found nothing lost, and X stayed.)
func TestARekeyAfterAReloadEndsWhatTheLostNumberAdded(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		s := rekeyFixture(t, st, map[string][]string{"carol": {rekeyA, rekeyB}})
		s.GiveNumbers(map[string][]string{"carol": {rekeyB}})
		s.Rekey("r", []byte(rekeyNew))
		xRemoved(t, s)
	})
}

// failsOnce is a store whose first update of carol's provisioned record
// in realm r fails (a store down a moment).
type failsOnce struct {
	store.Store
	failed atomic.Bool
}

func (f *failsOnce) Update(ctx context.Context, key string, change func([]byte, bool) ([]byte, time.Duration, error)) error {
	if key == provisionedKey("r", "carol") && f.failed.CompareAndSwap(false, true) {
		return errors.New("the store is down")
	}
	return f.Store.Update(ctx, key, change)
}

// TestAFailedRekeyIsTriedAgain: the gate adopts the store's new secret
// while the store fails its first write of carol's record; the re-keying
// is tried again (after rekey-retry) and the record is made under the
// new key, X's mark with it. On Badger and Redis. (Before: logged, never
// tried again: the record stayed under the old key, which the settle
// only replaces.) Not parallel: rekey-retry is the package's, shortened
// until its subtests end (t.Cleanup: a defer restored it as they paused).
func TestAFailedRekeyIsTriedAgain(t *testing.T) {
	restore, err := clock.Shorten("rekey-retry", 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(restore)
	storetest.OnBadgerAndRedis(t, func(t *testing.T, inner store.Store) {
		ctx := context.Background()
		st := &failsOnce{Store: inner}
		st.failed.Store(true) // not the fixture's settle
		s := rekeyFixture(t, st, map[string][]string{"carol": {rekeyA}})
		var on atomic.Bool
		on.Store(true)
		defer on.Store(false)
		s.RekeyTurn = func(context.Context) (func(), bool) { return func() {}, on.Load() }
		s.RekeyOn = on.Load
		st.failed.Store(false)
		s.Rekey("r", []byte(rekeyNew))
		want := s.Devices.NumberID(keyCheck) + " " + s.Devices.NumberID(rekeyA)
		for end := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			got, err := inner.Get(ctx, provisionedKey("r", "carol"))
			if err == nil && string(got) == want {
				break
			}
			if time.Now().After(end) {
				t.Fatalf("the record after a failed re-keying: %q %v, want %q", got, err, want)
			}
		}
		for end := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			list, err := s.Devices.List(ctx, "r", "carol")
			if err == nil && len(list) == 1 && s.Given("carol", list[0].AddedBy) == rekeyA {
				break
			}
			if time.Now().After(end) {
				t.Fatalf("X after the re-keying tried again names no number given: %+v %v", list, err)
			}
		}
	})
}
