package enrollment

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestAppCheckTellsNoCount: checking an app code costs the same work
// whether the user holds no app, one, two or nine: the same TOTP codes
// computed (every one of MaxDevices places, each at all three steps), the
// same secrets opened, and — for none, one or two apps — the same store
// calls (further apps' slots in the window are taken side by side, in one
// round trip's time). Counted, not timed. Before, a wrong code cost 3
// codes per app (and 3 for none), one secret per app, and one more store
// round trip for each app past the first, so timing told a name with two
// apps or more.
func TestAppCheckTellsNoCount(t *testing.T) {
	// Not parallel: it counts through a package variable (totpCode).
	ctx := context.Background()
	s, _, clk := appService(t)
	st := &countingStore{Store: s.Store}
	s.Store = st
	sealer := &countingSealer{Sealer: s.Secrets}
	s.Secrets = sealer
	var codes atomic.Int64
	totpCode = func(secret string, t time.Time, opts totp.ValidateOpts) (string, error) {
		codes.Add(1)
		return totp.GenerateCodeCustom(secret, t, opts)
	}
	t.Cleanup(func() { totpCode = totp.GenerateCodeCustom })

	holders := map[string]int{"none": 0, "one": 1, "two": 2, "nine": 9}
	secrets := map[string][]string{}
	for user, n := range holders {
		secrets[user] = addApps(t, s, clk, user, n)
	}
	clk.advance(2 * appPeriod)
	type work struct{ codes, opens, calls int64 }
	check := func(user, code string) work {
		codes.Store(0)
		sealer.opens.Store(0)
		st.calls.Store(0)
		_, _ = s.Devices.CheckApp(ctx, enrolled, user, code)
		return work{codes.Load(), sealer.opens.Load(), st.calls.Load()}
	}
	wrong := map[string]work{}
	for user := range holders {
		wrong[user] = check(user, wrongForEvery(t, clk.now(), secrets[user]))
	}
	want := work{MaxDevices * 3, MaxDevices, wrong["none"].calls}
	for user, w := range wrong {
		if w.codes != want.codes || w.opens != want.opens || (user != "nine" && w.calls != want.calls) {
			t.Errorf("a wrong code for a user with %d apps: %d codes, %d secrets opened, %d store calls; want %d, %d, %d (all: %v)",
				holders[user], w.codes, w.opens, w.calls, want.codes, want.opens, want.calls, wrong)
		}
	}
	right, _ := totp.GenerateCodeCustom(secrets["nine"][4], clk.now(), appOpts)
	if w := check("nine", right); w.codes != want.codes || w.opens != want.opens {
		t.Errorf("a right code: %d codes, %d secrets opened; want %d, %d", w.codes, w.opens, want.codes, want.opens)
	}
}

// addApps adds n apps for user, and returns their secrets.
func addApps(tb testing.TB, s *Challenges, clk *clock, user string, n int) []string {
	tb.Helper()
	var secrets []string
	for range n {
		setup, err := s.Devices.StartApp(context.Background(), realm, user, "Example", "")
		if err != nil {
			tb.Fatal(err)
		}
		code, _ := totp.GenerateCodeCustom(setup.Secret, clk.now(), appOpts)
		if _, _, err := s.Devices.ConfirmApp(context.Background(), enrolled, user, code, ""); err != nil {
			tb.Fatal(err)
		}
		secrets = append(secrets, setup.Secret)
	}
	return secrets
}

// BenchmarkCheckApp is a wrong app code checked for a user with one app
// (the lockouts' and the window's store work included, on Badger).
//
//	go test ./enrollment -run '^$' -bench CheckApp -benchmem
func BenchmarkCheckApp(b *testing.B) {
	s, _, clk := appService(b)
	s.Limits.Guesses.Count = 1 << 30
	s.Limits.MaxFailures, s.Limits.LockAfter = 1<<30, 1<<30
	wrong := wrongForEvery(b, clk.now(), addApps(b, s, clk, alice, 1))
	b.ReportAllocs()
	for b.Loop() {
		_, _ = s.Devices.CheckApp(context.Background(), enrolled, alice, wrong)
	}
}

// wrongForEvery is a six-digit code no secret accepts at now.
func wrongForEvery(t testing.TB, now time.Time, secrets []string) string {
	t.Helper()
	right := map[string]bool{}
	for _, secret := range secrets {
		for d := -appSkew; d <= appSkew; d++ {
			c, err := totp.GenerateCodeCustom(secret, now.Add(time.Duration(d)*appPeriod), appOpts)
			if err != nil {
				t.Fatal(err)
			}
			right[c] = true
		}
	}
	for n := 0; ; n++ {
		if c := fmt.Sprintf("%06d", n); !right[c] {
			return c
		}
	}
}

// countingSealer counts the secrets it opens.
type countingSealer struct {
	Sealer
	opens atomic.Int64
}

func (c *countingSealer) Open(sealed, context string) (string, error) {
	c.opens.Add(1)
	return c.Sealer.Open(sealed, context)
}

// countingStore counts the calls made to its store (it is no Batcher: a
// batch is its operations, one call each).
type countingStore struct {
	store.Store
	calls atomic.Int64
}

func (c *countingStore) Get(ctx context.Context, key string) ([]byte, error) {
	c.calls.Add(1)
	return c.Store.Get(ctx, key)
}

func (c *countingStore) Put(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	c.calls.Add(1)
	return c.Store.Put(ctx, key, value, ttl)
}

func (c *countingStore) PutIfAbsent(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	c.calls.Add(1)
	return c.Store.PutIfAbsent(ctx, key, value, ttl)
}

func (c *countingStore) Take(ctx context.Context, key string) ([]byte, error) {
	c.calls.Add(1)
	return c.Store.Take(ctx, key)
}

func (c *countingStore) Delete(ctx context.Context, key string) error {
	c.calls.Add(1)
	return c.Store.Delete(ctx, key)
}

func (c *countingStore) ClearWindow(ctx context.Context, key string) error {
	c.calls.Add(1)
	return c.Store.ClearWindow(ctx, key)
}

func (c *countingStore) Incr(ctx context.Context, key string, ttl time.Duration) (int64, error) {
	c.calls.Add(1)
	return c.Store.Incr(ctx, key, ttl)
}

func (c *countingStore) Update(ctx context.Context, key string, change func([]byte, bool) ([]byte, time.Duration, error)) error {
	c.calls.Add(1)
	return c.Store.Update(ctx, key, change)
}

func (c *countingStore) Slide(ctx context.Context, key, id string, limit int, window time.Duration, now time.Time) (bool, time.Duration, error) {
	c.calls.Add(1)
	return c.Store.Slide(ctx, key, id, limit, window, now)
}

func (c *countingStore) Unslide(ctx context.Context, key, id string) error {
	c.calls.Add(1)
	return c.Store.Unslide(ctx, key, id)
}

func (c *countingStore) Counter(ctx context.Context, key string) (int64, error) {
	c.calls.Add(1)
	return c.Store.Counter(ctx, key)
}

// TestAppCheckRoundTripsTellNoCount: on Redis, a wrong app code costs a
// user with nine apps as many round trips as a user with one or two:
// the further apps' slots in the window go in one batch. Counted, not
// timed. Before, each further app's slot was a round trip of its own (side
// by side in time, but 8 more for nine apps).
func TestAppCheckRoundTripsTellNoCount(t *testing.T) {
	t.Parallel()
	cost, _ := appCheckTrips(t, map[string]int{"one": 1, "two": 2, "nine": 9}, func(user string, secrets []string, now time.Time) string {
		return wrongForEvery(t, now, secrets)
	})
	if cost["one"] != cost["two"] || cost["one"] != cost["nine"] {
		t.Errorf("round trips of a wrong app code, by the user's apps: %v; want one count", cost)
	}
}

// TestARightAppCodeGivesItsSlotsBackInOneBatch: on Redis, a right app
// code costs a user with nine apps as many round trips as a user with one:
// the slots its comparisons took in the window all go back in the batch
// that forgets the failures. Before, the further apps' slots went back in
// a batch of their own, one round trip more.
func TestARightAppCodeGivesItsSlotsBackInOneBatch(t *testing.T) {
	t.Parallel()
	cost, errs := appCheckTrips(t, map[string]int{"one": 1, "nine": 9}, func(user string, secrets []string, now time.Time) string {
		right, _ := totp.GenerateCodeCustom(secrets[0], now, appOpts)
		return right
	})
	if errs["one"] != nil || errs["nine"] != nil {
		t.Fatalf("a right app code refused: %v", errs)
	}
	if cost["one"] != cost["nine"] {
		t.Errorf("round trips of a right app code, by the user's apps: %v; want one count", cost)
	}
}

// appCheckTrips is the Redis round trips of an app code checked for each
// user of holders (their number of apps), the code made by code from
// their apps' secrets; and the checks' errors.
func appCheckTrips(t *testing.T, holders map[string]int, code func(user string, secrets []string, now time.Time) string) (map[string]int64, map[string]error) {
	ctx := context.Background()
	s, _, clk := appServiceOn(t, redisStore(t))
	trips := &storetest.RoundTrips{}
	s.Store.(*store.Redis).Client().AddHook(trips)
	secrets := map[string][]string{}
	for user, n := range holders {
		secrets[user] = addApps(t, s, clk, user, n)
	}
	clk.advance(2 * appPeriod)
	cost, errs := map[string]int64{}, map[string]error{}
	for user := range holders {
		c := code(user, secrets[user], clk.now())
		trips.N.Store(0)
		_, errs[user] = s.Devices.CheckApp(ctx, enrolled, user, c)
		cost[user] = trips.N.Load()
	}
	return cost, errs
}
