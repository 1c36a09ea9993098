package enrollment

// Regression tests for what an outside attack found: each failed before the fix.

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/providers"
	"github.com/smsgate/caddy-smsgate/words"
)

var codeIn = regexp.MustCompile(`#(\d+)$`)

func codeOf(t *testing.T, out *outbox) string {
	t.Helper()
	m := codeIn.FindStringSubmatch(out.last(t).Body)
	if m == nil {
		t.Fatalf("no code in %q", out.last(t).Body)
	}
	return m[1]
}

// A pending enrollment must not complete once the user has a phone: the
// attacker's phone A must not become a silent second device.
func TestLateEnrollmentIsRefused(t *testing.T) {
	t.Parallel()
	s, out, _ := newService(t)
	ctx := context.Background()
	attacker, err := s.Start(ctx, sc, Challenge{User: alice, Phone: "+447911123456", Purpose: Enroll})
	if err != nil {
		t.Fatal(err)
	}
	attackerCode := codeOf(t, out)
	victim, err := s.Start(ctx, sc, Challenge{User: alice, Phone: num, Purpose: Enroll})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Check(ctx, sc, victim, codeOf(t, out)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Check(ctx, sc, attacker, attackerCode); !errors.Is(err, ErrEnrolled) {
		t.Fatalf("late enrollment: %v, want ErrEnrolled", err)
	}
	if list, _ := s.Devices.List(ctx, realm, alice); len(list) != 1 || list[0].Phone != num {
		t.Fatalf("devices after a late enrollment: %+v", list)
	}
}

func TestExpiredChallengeIsNotResent(t *testing.T) {
	t.Parallel()
	s, out, clk := newService(t)
	ctx := context.Background()
	c, err := s.Start(ctx, sc, Challenge{User: alice, Phone: num, Purpose: Enroll})
	if err != nil {
		t.Fatal(err)
	}
	clk.advance(s.CodeTTL + time.Second)
	if _, err := s.Resend(ctx, sc, c.ID); !errors.Is(err, ErrExpired) {
		t.Fatalf("resend of an expired challenge: %v, want ErrExpired", err)
	}
	if len(out.sent) != 1 {
		t.Fatalf("%d messages; the expired challenge was revived", len(out.sent))
	}
}

// A gateway outage that sent nothing (no connection, a refusal:
// providers.Unsent) gives the number's and the country's windows back,
// and the wait; the user's and the IP's keep it, as they keep a send (a
// gateway's refusal an attacker brings about with the numbers typed
// must not make the global budget the only bound: fixb39), and so does
// the global budget, which bounds cost. (One that may have sent keeps it
// all: TestAnUnconfirmedSendCountsAsSent.)
func TestGatewayFaultsRefundTheNumbersWindows(t *testing.T) {
	t.Parallel()
	s, out, _ := limited(t, Limits{User: Rate{2, time.Hour}, Number: Rate{2, time.Hour}, GlobalEnrolled: Rate{5, time.Hour},
		LockAfter: 10, Lockout: time.Minute, MaxFailures: 100})
	ctx := context.Background()
	out.err = providers.NotSent(errors.New("the gateway refused the connection"))
	for i := range 2 {
		var se *SendError
		if _, err := s.Start(ctx, sc, Challenge{User: alice, Phone: num, Purpose: Verify}); !errors.As(err, &se) {
			t.Fatalf("send %d during the outage: %v", i, err)
		}
	}
	out.err = nil
	var limit *LimitError
	if _, err := s.Start(ctx, sc, Challenge{User: alice, Phone: num, Purpose: Verify}); !errors.As(err, &limit) || limit.Limit != "user" {
		t.Fatalf("after two refused sends: %v; want the user's window spent", err)
	}
	// The number's window was given back: bob, elsewhere, reaches it twice.
	for i := range 2 {
		if _, err := s.Start(ctx, Scope{Realm: realm, Host: host, IP: "192.0.2.99"}, Challenge{User: "bob", Phone: num, Purpose: Verify}); err != nil {
			t.Fatalf("bob's send %d to the number after the refused ones: %v", i+1, err)
		}
	}
	if _, err := s.Start(ctx, Scope{Realm: realm, Host: host, IP: "192.0.2.98"}, Challenge{User: "carol", Phone: num, Purpose: Verify}); !errors.As(err, &limit) || limit.Limit != "number" {
		t.Fatalf("a third send to the number: %v; want its window spent by the two that went", err)
	}
	// A user error (the number is at fault) gives nothing back.
	s2, out2, _ := limited(t, Limits{Number: Rate{1, time.Hour}, LockAfter: 10, Lockout: time.Minute, MaxFailures: 100})
	out2.err = &providers.UserError{Text: words.Text{ID: "provider.not_mobile"}}
	_, _ = s2.Start(ctx, sc, Challenge{User: alice, Phone: num, Purpose: Verify})
	out2.err = nil
	if _, err := s2.Start(ctx, sc, Challenge{User: alice, Phone: num, Purpose: Verify}); !errors.As(err, &limit) || limit.Limit != "number" {
		t.Fatalf("after a user error: %v; want the number's window spent", err)
	}
}

// Ten sends at the end of one hour and ten at the start of the next: a
// window slides, so the second burst is refused.
func TestWindowsSlide(t *testing.T) {
	t.Parallel()
	s, _, clk := limited(t, Limits{User: Rate{10, time.Hour}, LockAfter: 10, Lockout: time.Minute, MaxFailures: 100})
	ctx := context.Background()
	clk.t = time.Date(2026, 11, 22, 10, 59, 0, 0, time.UTC)
	for i := range 10 {
		if _, err := s.Start(ctx, sc, Challenge{User: alice, Phone: num, Purpose: Verify}); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	clk.advance(2 * time.Minute) // 11:01, a new clock hour
	var limit *LimitError
	_, err := s.Start(ctx, sc, Challenge{User: alice, Phone: num, Purpose: Verify})
	if !errors.As(err, &limit) || limit.Limit != "user" || limit.Wait != 58*time.Minute {
		t.Fatalf("the 11th send in an hour: %v; want the user limit, 58 minutes", err)
	}
}

// Strangers who name a user cannot keep the user's own browser out: a
// known browser has budgets and an account lockout of its own.
func TestStrangersCannotSpendAKnownBrowsersBudget(t *testing.T) {
	t.Parallel()
	s, _, _ := limited(t, Limits{User: Rate{3, time.Hour}, Number: Rate{3, time.Hour}, LockAfter: 10, Lockout: time.Minute, MaxFailures: 100})
	ctx := context.Background()
	for i := range 3 {
		stranger := Scope{Realm: realm, Host: host, IP: fmt.Sprintf("198.51.100.%d", i)}
		if _, err := s.Start(ctx, stranger, Challenge{User: alice, Phone: num, Purpose: Verify}); err != nil {
			t.Fatal(err)
		}
	}
	var limit *LimitError
	if _, err := s.Start(ctx, Scope{Realm: realm, Host: host, IP: "198.51.100.9"}, Challenge{User: alice, Phone: num, Purpose: Verify}); !errors.As(err, &limit) {
		t.Fatalf("a fourth stranger: %v", err)
	}
	if _, err := s.Start(ctx, Scope{Realm: realm, Host: host, IP: "192.0.2.1", Known: true}, Challenge{User: alice, Phone: num, Purpose: Verify}); err != nil {
		t.Fatalf("the user's known browser: %v", err)
	}
}

// Wrong recovery codes are throttled per sign-in and per IP, and count
// among the account's checked guesses: 100 of them from 10 IPs fill its
// window, after which no stranger's code is checked, while the user's
// known browser signs in as before.
func TestRecoveryGuessesAreBounded(t *testing.T) {
	t.Parallel()
	s, out, _ := limited(t, DefaultLimits)
	ctx := context.Background()
	if _, err := s.Devices.NewRecoveryCodes(ctx, realm, alice); err != nil {
		t.Fatal(err)
	}
	refused := 0
	for i := range 100 {
		ip := Scope{Realm: realm, Host: host, IP: fmt.Sprintf("203.0.113.%d", i%10)}
		err := s.Devices.UseRecoveryCode(ctx, ip, fmt.Sprint("flow", i/RecoveryTriesPerFlow), alice, "AAAAA-AAAAA")
		var locked *LockedError
		switch {
		case errors.Is(err, ErrWrongRecovery):
		case errors.As(err, &locked) && i >= 90 && !locked.Account: // the 10th from one IP locks that IP out
			refused++
		default:
			t.Fatalf("try %d: %v", i, err)
		}
	}
	if refused != 10 {
		t.Fatalf("%d of 100 tries over 10 IPs locked out; want each IP's 10th", refused)
	}
	var locked *LockedError
	err := s.Devices.UseRecoveryCode(ctx, Scope{Realm: realm, Host: host, IP: "198.51.100.77"}, "flow-y", alice, "AAAAA-AAAAA")
	if !errors.As(err, &locked) || !locked.Account || !locked.Started {
		t.Fatalf("a 101st try from a new IP: %v, want the account's window full", err)
	}
	var limit *LimitError
	if err := s.Devices.UseRecoveryCode(ctx, Scope{Realm: realm, Host: host, IP: "203.0.113.1"}, "flow-x", "bob", "AAAAA-AAAAB"); !errors.As(err, &limit) || limit.Limit != "recovery" {
		t.Fatalf("the 11th try from one IP, for another user: %v, want the IP throttled", err)
	}
	for i := range RecoveryTriesPerFlow {
		_ = s.Devices.UseRecoveryCode(ctx, Scope{Realm: realm, Host: host, IP: fmt.Sprintf("192.0.2.%d", 100+i)}, "one-flow", "bob", "AAAAA-AAAAA")
	}
	if err := s.Devices.UseRecoveryCode(ctx, Scope{Realm: realm, Host: host, IP: "192.0.2.200"}, "one-flow", "bob", "AAAAA-AAAAA"); !errors.Is(err, ErrRecoveryTries) {
		t.Fatalf("a sixth try in one sign-in: %v", err)
	}
	known := Scope{Realm: realm, Host: host, IP: "192.0.2.1", Known: true, Provisioned: true}
	c, err := s.Start(ctx, known, Challenge{User: alice, Phone: num, Purpose: Verify})
	if err != nil {
		t.Fatalf("alice's known browser after the guessing: %v", err)
	}
	if _, err := s.Check(ctx, known, c, codeOf(t, out)); err != nil {
		t.Fatalf("alice's code after the guessing: %v", err)
	}
}

func TestRecoveryCodesAreNeverDigitsOnly(t *testing.T) {
	t.Parallel()
	if _, ok := NormalizeRecovery("2345678923"); ok {
		t.Fatal("a 10-digit phone code was taken for a recovery code")
	}
	s, _, _ := newService(t)
	for range 200 {
		// The sets the first set and every renewal write and show; the
		// store's writes (an fsync and a retirement each) are not what is
		// tested: 7.6 s of the package's wall, 1.3 s of CPU.
		codes, _ := s.Devices.recoverySet(alice)
		for _, c := range codes {
			if _, ok := NormalizeRecovery(c); !ok {
				t.Fatalf("generated code %q is not a recovery code", c)
			}
		}
	}
}

// TestFirstRecoveryCodesReplaceNoUnusedSet: a first set is written where a
// user holds no unused code (none yet, or every one used), never over a
// set with codes left (one written meanwhile); UndoRenewal withdraws it,
// putting back what it replaced.
func TestFirstRecoveryCodesReplaceNoUnusedSet(t *testing.T) {
	t.Parallel()
	s, _, _ := limited(t, DefaultLimits)
	ctx := context.Background()
	first, err := s.Devices.FirstRecoveryCodes(ctx, realm, alice)
	if err != nil || first == nil || len(first.Codes) != RecoveryCount {
		t.Fatalf("a first set where there was none: %v %v", first, err)
	}
	if again, err := s.Devices.FirstRecoveryCodes(ctx, realm, alice); err != nil || again != nil {
		t.Fatalf("a first set over one with codes left: %v %v", again, err)
	}
	sc := Scope{Realm: realm, Host: host, IP: "203.0.113.1"}
	for i, code := range first.Codes {
		if err := s.Devices.UseRecoveryCode(ctx, sc, fmt.Sprint("flow", i), alice, code); err != nil {
			t.Fatalf("code %d: %v", i, err)
		}
	}
	next, err := s.Devices.FirstRecoveryCodes(ctx, realm, alice)
	if err != nil || next == nil {
		t.Fatalf("a first set where every code was used: %v %v", next, err)
	}
	if err := s.Devices.UndoRenewal(ctx, realm, alice, next); err != nil {
		t.Fatal(err)
	}
	if left, err := s.Devices.RecoveryCodesLeft(ctx, realm, alice); err != nil || left != 0 {
		t.Fatalf("withdrawn, the set left %d codes (%v)", left, err)
	}
}
