package enrollment

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/phone"
	"github.com/smsgate/caddy-smsgate/pumping"
	"github.com/smsgate/caddy-smsgate/store"
)

func limited(t *testing.T, l Limits) (*Challenges, *outbox, *clock) {
	s, out, clk := newService(t)
	s.Limits = l
	s.ResendCooldown = 0
	return s, out, clk
}

func TestSendLimits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		rate  func(*Limits) *Rate
		start func(i int) (Scope, Challenge)
	}{
		{"user", func(l *Limits) *Rate { return &l.User }, func(i int) (Scope, Challenge) {
			return Scope{Realm: realm, Host: host, IP: fmt.Sprintf("192.0.2.%d", i)}, Challenge{User: alice, Phone: fmt.Sprintf("+1415555%04d", 2600+i), Purpose: Verify}
		}},
		{"number", func(l *Limits) *Rate { return &l.Number }, func(i int) (Scope, Challenge) {
			return Scope{Realm: realm, Host: host, IP: fmt.Sprintf("192.0.2.%d", i)}, Challenge{User: fmt.Sprint("u", i), Phone: num, Purpose: Verify}
		}},
		{"ip", func(l *Limits) *Rate { return &l.IP }, func(i int) (Scope, Challenge) {
			return Scope{Realm: realm, Host: host, IP: fmt.Sprintf("2001:db8::%x", i)}, Challenge{User: fmt.Sprint("u", i), Phone: fmt.Sprintf("+1415555%04d", 2600+i), Purpose: Verify}
		}},
		{"country", func(l *Limits) *Rate { return &l.Country }, func(i int) (Scope, Challenge) {
			return Scope{Realm: realm, Host: host, IP: fmt.Sprintf("192.0.2.%d", i)}, Challenge{User: fmt.Sprint("u", i), Phone: fmt.Sprintf("+1415555%04d", 2600+i), Purpose: Verify}
		}},
		{"global_new", func(l *Limits) *Rate { return &l.GlobalNew }, func(i int) (Scope, Challenge) {
			// A realm's budget, whoever the user (another realm's has its
			// own: TestEachRealmHasItsOwnGlobalBudget).
			return Scope{Realm: realm, Host: host, IP: fmt.Sprintf("192.0.2.%d", i)}, Challenge{User: fmt.Sprint("u", i), Phone: fmt.Sprintf("+1415555%04d", 2600+i), Purpose: Enroll}
		}},
		{"voice", func(l *Limits) *Rate { return &l.Voice }, func(i int) (Scope, Challenge) {
			return Scope{Realm: realm, Host: host, IP: fmt.Sprintf("192.0.2.%d", i)}, Challenge{User: alice, Phone: fmt.Sprintf("+1415555%04d", 2600+i), Purpose: Verify, Channel: factor.ChannelVoice}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var l Limits
			*tc.rate(&l) = Rate{3, time.Hour}
			s, out, clk := limited(t, l)
			for i := range 3 {
				sc, c := tc.start(i)
				if _, err := s.Start(ctx, sc, c); err != nil {
					t.Fatalf("send %d: %v", i+1, err)
				}
			}
			sc, c := tc.start(3)
			_, err := s.Start(ctx, sc, c)
			var le *LimitError
			if !errors.As(err, &le) || le.Limit != tc.name || le.Wait <= 0 || le.Wait > time.Hour {
				t.Fatalf("fourth send: %v, want the %s limit", err, tc.name)
			}
			if len(out.sent) != 3 {
				t.Fatalf("%d messages sent, want 3", len(out.sent))
			}
			clk.advance(le.Wait)
			if _, err := s.Start(ctx, sc, c); err != nil {
				t.Fatalf("after the window: %v", err)
			}
		})
	}
}

func TestEnrolledBudgetSurvivesNewNumberFlood(t *testing.T) {
	t.Parallel()
	s, _, _ := limited(t, Limits{GlobalNew: Rate{2, time.Hour}, GlobalEnrolled: Rate{5, time.Hour}})
	ctx := context.Background()
	for i := range 10 {
		_, _ = s.Start(ctx, sc, Challenge{User: fmt.Sprint("spam", i), Phone: fmt.Sprintf("+1415555%04d", 3000+i), Purpose: Enroll})
	}
	if _, err := s.Start(ctx, sc, Challenge{User: alice, Phone: num, Purpose: Verify}); err != nil {
		t.Fatalf("an enrolled user after a flood of new numbers: %v", err)
	}
}

func TestIPv6CountsBySlash64(t *testing.T) {
	t.Parallel()
	if IPKey("2001:db8:1:2:aaaa::1") != IPKey("2001:db8:1:2:bbbb::2") || IPKey("2001:db8:1:2::1") == IPKey("2001:db8:1:3::1") {
		t.Fatal("IPv6 keys are not by /64")
	}
	if IPKey("192.0.2.1") == IPKey("192.0.2.2") || IPKey("::ffff:192.0.2.1") != "192.0.2.1" || IPKey("") != "unknown" {
		t.Fatal("IPv4 keys")
	}
}

func TestLockoutGrowsAndIsPerUserAndIP(t *testing.T) {
	t.Parallel()
	s, out, clk := limited(t, Limits{LockAfter: 3, Lockout: time.Minute, MaxFailures: 100})
	s.MaxAttempts = 10
	ctx := context.Background()
	c, _ := s.Start(ctx, sc, Challenge{User: alice, Phone: num, Purpose: Verify})
	code := out.last(t).Code
	fail := func(sc Scope) error {
		_, err := s.Check(ctx, sc, c, wrongOf(code))
		return err
	}
	for range 2 {
		if err := fail(sc); !errors.As(err, new(*WrongCodeError)) {
			t.Fatal(err)
		}
	}
	var locked *LockedError
	if err := fail(sc); !errors.As(err, &locked) || locked.Wait != time.Minute || !locked.Started {
		t.Fatalf("third wrong code: %v, want a 1m lockout", err)
	}
	// Even the right code is refused while locked, from that IP…
	if _, err := s.Check(ctx, sc, c, code); !errors.As(err, &locked) || locked.Started {
		t.Fatalf("right code while locked: %v", err)
	}
	// …and no new code is sent.
	if _, err := s.Start(ctx, sc, Challenge{User: alice, Phone: num, Purpose: Verify}); !errors.As(err, &locked) {
		t.Fatalf("send while locked: %v", err)
	}
	// A stranger's lockout does not lock the user out from elsewhere.
	other := Scope{Realm: realm, Host: host, IP: "198.51.100.7", Provisioned: true}
	clk.advance(time.Minute)
	for range 2 {
		_ = fail(sc)
	}
	if err := fail(sc); !errors.As(err, &locked) || locked.Wait != 2*time.Minute {
		t.Fatalf("second round: %v, want a doubled lockout", err)
	}
	if _, err := s.Check(ctx, other, c, code); err != nil {
		t.Fatalf("the user from another IP: %v", err)
	}
}

func TestAccountCapIsNISTs(t *testing.T) {
	t.Parallel()
	s, _, clk := limited(t, Limits{LockAfter: 1000, Lockout: time.Minute, MaxFailures: 100})
	ctx := context.Background()
	var locked *LockedError
	for i := 1; i <= 100; i++ {
		ip := fmt.Sprintf("10.0.%d.%d", i/250, i%250) // a botnet: one try per address
		c, err := s.Start(ctx, Scope{Realm: realm, Host: host, IP: ip}, Challenge{User: alice, Phone: "", Purpose: Verify})
		if err != nil {
			t.Fatalf("start %d: %v", i, err)
		}
		_, err = s.Check(ctx, Scope{Realm: realm, Host: host, IP: ip}, c, "000000")
		if i < 100 && errors.As(err, &locked) {
			t.Fatalf("locked after %d failures", i)
		}
		if i == 100 && (!errors.As(err, &locked) || locked.Wait != AccountLockout) {
			t.Fatalf("failure 100: %v, want the account locked for %s", err, AccountLockout)
		}
	}
	if _, err := s.Start(ctx, Scope{Realm: realm, Host: host, IP: "203.0.113.9"}, Challenge{User: alice, Phone: num, Purpose: Verify}); !errors.As(err, &locked) {
		t.Fatalf("after 100 failures, from a new IP: %v", err)
	}
	// Whoever caused it, the lock cannot keep the user out for long, and
	// never their own known browser.
	if _, err := s.Start(ctx, Scope{Realm: realm, Host: host, IP: "203.0.113.9", Known: true}, Challenge{User: alice, Phone: num, Purpose: Verify}); err != nil {
		t.Fatalf("a known browser during a lockout strangers caused: %v", err)
	}
	clk.advance(AccountLockout + time.Second)
	if _, err := s.Start(ctx, Scope{Realm: realm, Host: host, IP: "203.0.113.10"}, Challenge{User: alice, Phone: num, Purpose: Verify}); err != nil {
		t.Fatalf("%s after the lockout: %v", AccountLockout, err)
	}
}

func TestSuccessResetsTheCount(t *testing.T) {
	t.Parallel()
	s, out, _ := limited(t, Limits{LockAfter: 3, Lockout: time.Minute, MaxFailures: 100})
	ctx := context.Background()
	for range 3 {
		c, _ := s.Start(ctx, sc, Challenge{User: alice, Phone: num, Purpose: Verify})
		code := out.last(t).Code
		_, _ = s.Check(ctx, sc, c, wrongOf(code))
		_, _ = s.Check(ctx, sc, c, wrongOf(code))
		if _, err := s.Check(ctx, sc, c, code); err != nil {
			t.Fatalf("two wrong then right: %v (failures are not consecutive)", err)
		}
	}
}

func TestPolicyBeforeSend(t *testing.T) {
	t.Parallel()
	s, out, _ := limited(t, Limits{})
	s.Policy = &phone.Policy{AllowedRegions: []string{"GB"}}
	_, err := s.Start(context.Background(), sc, Challenge{User: alice, Phone: num, Purpose: Enroll})
	if !errors.As(err, new(*RefusedError)) || !errors.Is(err, phone.ErrRegion) || len(out.sent) != 0 {
		t.Fatalf("a US number with allowed_regions GB: %v, %d sent", err, len(out.sent))
	}
}

// recorder wraps a store and notes the kind of each operation.
type recorder struct {
	store.Store
	ops []string
}

func (r *recorder) Get(ctx context.Context, k string) ([]byte, error) {
	r.ops = append(r.ops, "get")
	return r.Store.Get(ctx, k)
}
func (r *recorder) Put(ctx context.Context, k string, v []byte, ttl time.Duration) error {
	r.ops = append(r.ops, "put")
	return r.Store.Put(ctx, k, v, ttl)
}
func (r *recorder) Incr(ctx context.Context, k string, ttl time.Duration) (int64, error) {
	r.ops = append(r.ops, "incr")
	return r.Store.Incr(ctx, k, ttl)
}
func (r *recorder) Delete(ctx context.Context, k string) error {
	r.ops = append(r.ops, "delete")
	return r.Store.Delete(ctx, k)
}
func (r *recorder) ClearWindow(ctx context.Context, k string) error {
	r.ops = append(r.ops, "clear")
	return r.Store.ClearWindow(ctx, k)
}
func (r *recorder) Counter(ctx context.Context, k string) (int64, error) {
	r.ops = append(r.ops, "counter")
	return r.Store.Counter(ctx, k)
}

// TestDecoyTakesTheSamePath: for an unknown user the service does the same
// store work as for a known one — the path, not the clock, is compared —
// the pumping guard's counters included.
func TestDecoyTakesTheSamePath(t *testing.T) {
	t.Parallel()
	for _, verifyOnly := range []bool{false, true} {
		s, out, clk := limited(t, DefaultLimits)
		if verifyOnly {
			s.PhoneKey = []byte("a phone-hashing key of 32 bytes or more")
		}
		rec := &recorder{Store: s.Store}
		s.Store = rec
		s.Guard = &pumping.Guard{Settings: pumping.Defaults, Store: rec, Now: clk.now}
		ctx := context.Background()
		path := func(user, e164 string) []string {
			rec.ops = nil
			c, err := s.Start(ctx, sc, Challenge{User: user, Phone: e164, Purpose: Verify})
			if err != nil {
				t.Fatal(err)
			}
			_, _ = s.Check(ctx, sc, c, "000000")
			return rec.ops
		}
		known := path(alice, num)
		if len(out.sent) != 1 {
			t.Fatal("no code sent to the known user")
		}
		clk.advance(time.Minute)
		unknown := path("mallory", "")
		if fmt.Sprint(known) != fmt.Sprint(unknown) {
			t.Fatalf("verify-only %v: known user %v, unknown %v", verifyOnly, known, unknown)
		}
	}
}

func TestRecoveryCodes(t *testing.T) {
	t.Parallel()
	s, _, _ := limited(t, Limits{LockAfter: 10, Lockout: time.Minute, MaxFailures: 100})
	ctx := context.Background()
	codes, err := s.Devices.NewRecoveryCodes(ctx, realm, alice)
	if err != nil || len(codes) != RecoveryCount {
		t.Fatal(codes, err)
	}
	code, ok := NormalizeRecovery(strings.ToLower(codes[3]))
	if !ok {
		t.Fatalf("NormalizeRecovery(%q) failed", codes[3])
	}
	if err := s.Devices.UseRecoveryCode(ctx, sc, "flow1", alice, code); err != nil {
		t.Fatalf("first use: %v", err)
	}
	if err := s.Devices.UseRecoveryCode(ctx, sc, "flow1", alice, code); !errors.Is(err, ErrWrongRecovery) {
		t.Fatalf("second use: %v", err)
	}
	if n, _ := s.Devices.RecoveryCodesLeft(ctx, realm, alice); n != RecoveryCount-1 {
		t.Fatalf("%d left", n)
	}
	if err := s.Devices.UseRecoveryCode(ctx, sc, "flow2", "bob", codes[4]); !errors.Is(err, ErrWrongRecovery) {
		t.Fatalf("another user's code: %v", err)
	}
	fresh, _ := s.Devices.NewRecoveryCodes(ctx, realm, alice)
	if err := s.Devices.UseRecoveryCode(ctx, sc, "flow1", alice, codes[5]); err == nil {
		t.Fatal("an old code works after renewal")
	}
	if err := s.Devices.UseRecoveryCode(ctx, sc, "flow1", alice, fresh[0]); err != nil {
		t.Fatalf("a new code: %v", err)
	}
}

// TestARefusedSendTakesNothing: the limits are counted side by side (one
// round trip), so a send one limit refuses has been counted in the others
// for a moment. It must leave nothing behind: no place in any window, not
// the global budget's either, no challenge, and the cooldown that was there.
func TestARefusedSendTakesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, out, clk := limited(t, Limits{IP: Rate{1, time.Hour}, User: Rate{1, time.Hour}, GlobalEnrolled: Rate{2, time.Hour}})
	s.ResendCooldown = time.Minute
	at := func(ip string) Scope { return Scope{Realm: realm, Host: host, IP: ip} }
	send := func(ip, user, number string) error {
		_, err := s.Start(ctx, at(ip), Challenge{User: user, Phone: number, Purpose: Verify})
		return err
	}
	refusedBy := func(err error, want string) {
		t.Helper()
		var limit *LimitError
		if !errors.As(err, &limit) || limit.Limit != want {
			t.Fatalf("err = %v, want the %s limit", err, want)
		}
	}
	if err := send("192.0.2.1", "alice", "+14155552601"); err != nil {
		t.Fatal(err)
	}
	// bob is refused by the IP limit: his own window and the budget keep
	// their places, so he can send from elsewhere.
	refusedBy(send("192.0.2.1", "bob", "+14155552602"), "ip")
	if err := send("192.0.2.2", "bob", "+14155552602"); err != nil {
		t.Fatalf("bob from another IP after a refusal: %v", err)
	}
	// The budget is spent (alice, bob): carol is refused by it, and the IP
	// and user windows she was counted in are given back, so the next one
	// from her IP is refused by the budget again, not by the IP limit.
	refusedBy(send("192.0.2.3", "carol", "+14155552603"), "global_enrolled")
	refusedBy(send("192.0.2.3", "dave", "+14155552604"), "global_enrolled")
	out.mu.Lock()
	n := len(out.sent)
	out.mu.Unlock()
	if n != 2 {
		t.Fatalf("%d texts sent, want 2", n)
	}
	challenges := 0
	_ = s.Store.Scan(ctx, "challenge/", func(string, []byte) error { challenges++; return nil })
	if challenges != 2 {
		t.Fatalf("%d challenges stored, want the 2 sent", challenges)
	}
	// A refused send to a new number keeps the cooldown of the last one.
	clk.advance(2 * time.Hour)
	if err := send("192.0.2.9", "erin", "+14155552605"); err != nil {
		t.Fatal(err)
	}
	refusedBy(send("192.0.2.9", "erin", "+14155552606"), "ip")
	var cool *CooldownError
	if err := send("192.0.2.10", "erin", "+14155552605"); !errors.As(err, &cool) {
		t.Fatalf("the first number's cooldown after a refused send to another: %v", err)
	}
}

// lockFault is a store whose next write of an account lock fails, as a
// store that went away for a moment.
type lockFault struct {
	store.Store
	fail bool
}

func (l *lockFault) Put(ctx context.Context, k string, v []byte, ttl time.Duration) error {
	if l.fail && strings.HasPrefix(k, "lock/") {
		l.fail = false
		return errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")
	}
	return l.Store.Put(ctx, k, v, ttl)
}

// Update fails as Put does: a lock is written by an atomic update.
func (l *lockFault) Update(ctx context.Context, k string, change func([]byte, bool) ([]byte, time.Duration, error)) error {
	if l.fail && strings.HasPrefix(k, "lock/") {
		l.fail = false
		return errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")
	}
	return l.Store.Update(ctx, k, change)
}

// TestAFailedLockKeepsTheCount: the 100th wrong code in a row locks the
// account; if the store fails to write the lock, the count of wrong codes
// must stay, so that the next wrong code locks it. Before, the count was
// deleted before the lock was written: a fault between the two gave the
// guesser a fresh 100.
func TestAFailedLockKeepsTheCount(t *testing.T) {
	t.Parallel()
	s, _, _ := limited(t, Limits{LockAfter: 1000, Lockout: time.Minute, MaxFailures: 100})
	faulty := &lockFault{Store: s.Store}
	s.Store = faulty
	ctx := context.Background()
	guess := func(i int) error {
		sc := Scope{Realm: realm, Host: host, IP: fmt.Sprintf("10.1.%d.%d", i/250, i%250)}
		c, err := s.Start(ctx, sc, Challenge{User: alice, Phone: "", Purpose: Verify})
		if err != nil {
			t.Fatalf("start %d: %v", i, err)
		}
		_, err = s.Check(ctx, sc, c, "000000")
		return err
	}
	for i := 1; i < 100; i++ {
		_ = guess(i)
	}
	faulty.fail = true
	if err := guess(100); err == nil || errors.As(err, new(*LockedError)) {
		t.Fatalf("the 100th wrong code, its lock not written: %v", err)
	}
	if err := guess(101); !errors.As(err, new(*LockedError)) {
		t.Fatalf("the next wrong code after a lock that failed to be written: %v, want the account locked", err)
	}
}

// TestARightRecoveryCodeForgetsTheWrongOnes: the limits count wrong codes
// in a row, so a right recovery code starts them afresh, as a right texted
// code does.
func TestARightRecoveryCodeForgetsTheWrongOnes(t *testing.T) {
	t.Parallel()
	l := Limits{LockAfter: 3, Lockout: time.Minute, MaxFailures: 100}
	s, _, _ := limited(t, l)
	ctx := context.Background()
	codes, err := s.Devices.NewRecoveryCodes(ctx, realm, alice)
	if err != nil {
		t.Fatal(err)
	}
	try := 0
	wrong := func() error {
		try++
		return s.Devices.UseRecoveryCode(ctx, sc, fmt.Sprint("flow", try), alice, "WRONGCODE1")
	}
	for range 2 {
		if err := wrong(); !errors.Is(err, ErrWrongRecovery) {
			t.Fatalf("%+v: a wrong code: %v", l, err)
		}
	}
	if err := s.Devices.UseRecoveryCode(ctx, sc, "right", alice, codes[0]); err != nil {
		t.Fatalf("%+v: the right code: %v", l, err)
	}
	for range 2 {
		if err := wrong(); !errors.Is(err, ErrWrongRecovery) {
			t.Fatalf("%+v: a wrong code after a right one: %v; want it counted afresh", l, err)
		}
	}
	var locked *LockedError
	if err := wrong(); !errors.As(err, &locked) {
		t.Fatalf("%+v: a third wrong code in a row: %v; want a lock", l, err)
	}
}
