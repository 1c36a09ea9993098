package enrollment

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

// withApp gives alice an authenticator app and returns its secret.
func withApp(t *testing.T, s *Challenges, clk *clock) string {
	t.Helper()
	ctx := context.Background()
	setup, err := s.Devices.StartApp(ctx, realm, alice, "Example", "")
	if err != nil {
		t.Fatal(err)
	}
	code, _ := totp.GenerateCodeCustom(setup.Secret, clk.now(), appOpts)
	if _, _, err := s.Devices.ConfirmApp(ctx, Scope{Realm: realm, Host: host, IP: "192.0.2.1", Known: true}, alice, code, ""); err != nil {
		t.Fatal(err)
	}
	return setup.Secret
}

// TestGuessWindowHoldsUnderConcurrency: strangers guessing an app's codes
// at once, from as many IPs as guesses, get exactly Guesses.Count checked
// in the window, never one more; one lock is started, and the owner's
// known browser still signs in.
func TestGuessWindowHoldsUnderConcurrency(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _, clk := appService(t)
	// MaxFailures above the 200 tries at once: each try holds a failure
	// slot while it is compared (refusedUnchecked), so with fewer, a try
	// that took a guess's slot could find them all held by tries about to
	// give theirs back, and be refused unchecked (fails closed; a busy
	// machine saw 19 checked of 20). A test's value: configs stop at
	// MaxMaxFailures.
	s.Limits.MaxFailures = 1000
	s.Limits.LockAfter = 1000
	s.Limits.Guesses = Rate{20, 24 * time.Hour}
	secret := withApp(t, s, clk)
	clk.advance(time.Minute) // the step the app was confirmed with is used
	right, _ := totp.GenerateCodeCustom(secret, clk.now(), appOpts)
	wrong := wrongOf(right)
	var mu sync.Mutex
	var checked, refused, started int
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stranger := Scope{Realm: realm, Host: host, IP: fmt.Sprintf("10.0.%d.%d", i/250, i%250)}
			_, err := s.Devices.CheckApp(ctx, stranger, alice, wrong)
			var locked *LockedError
			mu.Lock()
			defer mu.Unlock()
			switch {
			case errors.As(err, new(*WrongCodeError)):
				checked++
			case errors.As(err, &locked) && locked.Account:
				refused++
				if locked.Started {
					started++
				}
			default:
				t.Errorf("guess %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if checked != 20 || refused != 180 || started != 1 {
		t.Fatalf("200 guesses at once: %d checked, %d refused, %d locks started; want 20, 180, 1", checked, refused, started)
	}
	// Even the right code is not checked now, and no code is sent; the
	// lock is the account's (as it was for guesses that found it begun,
	// which a busy machine interleaves with the others).
	var locked *LockedError
	if _, err := s.Devices.CheckApp(ctx, Scope{Realm: realm, Host: host, IP: "10.9.9.9"}, alice, right); !errors.As(err, &locked) || !locked.Account {
		t.Fatalf("the right code from a stranger with the window full: %v (%+v)", err, locked)
	}
	if _, err := s.Start(ctx, Scope{Realm: realm, Host: host, IP: "10.9.9.9"}, Challenge{User: alice, Phone: num, Purpose: Verify}); !errors.As(err, &locked) {
		t.Fatalf("a code sent to a stranger with the window full: %v", err)
	}
	if _, err := s.Devices.CheckApp(ctx, Scope{Realm: realm, Host: host, IP: "10.9.9.9", Known: true}, alice, right); err != nil {
		t.Fatalf("alice's known browser: %v", err)
	}
	// A day later the window has room again.
	clk.advance(24*time.Hour + time.Minute)
	if _, err := s.Devices.CheckApp(ctx, Scope{Realm: realm, Host: host, IP: "10.9.9.10"}, alice, wrong); !errors.As(err, new(*WrongCodeError)) {
		t.Fatalf("a guess a day later: %v", err)
	}
}

// TestRightCodesTakeNoSlot: a right code gives its slot back, so signing
// in never fills the window.
func TestRightCodesTakeNoSlot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, out, clk := appService(t)
	s.Limits.Guesses = Rate{2, 24 * time.Hour}
	secret := withApp(t, s, clk)
	stranger := Scope{Realm: realm, Host: host, IP: "198.51.100.1", Provisioned: true}
	for i := range 5 {
		clk.advance(time.Minute)
		code, _ := totp.GenerateCodeCustom(secret, clk.now(), appOpts)
		if _, err := s.Devices.CheckApp(ctx, stranger, alice, code); err != nil {
			t.Fatalf("app sign-in %d: %v", i, err)
		}
		c, err := s.Start(ctx, stranger, Challenge{User: alice, Phone: num, Purpose: Verify})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Check(ctx, stranger, c, codeOf(t, out)); err != nil {
			t.Fatalf("texted sign-in %d: %v", i, err)
		}
	}
}

// TestGuessOdds: what the defaults allow in 30 days of non-stop guessing
// from any number of IPs.
func TestGuessOdds(t *testing.T) {
	t.Parallel()
	n, odds := DefaultLimits.GuessOdds(30, 6, 3)
	if n != 3000 || odds > 0.01 || odds < 0.0089 {
		t.Fatalf("an app's code: %d guesses, %.4f%%; want 3000 and 0.90%%", n, odds*100)
	}
	if _, odds := DefaultLimits.GuessOdds(30, 6, 1); odds > 0.0031 {
		t.Fatalf("a texted code: %.4f%%", odds*100)
	}
	twice := DefaultLimits
	twice.Guesses.Count = 200
	if _, odds := twice.GuessOdds(30, 6, 3); odds < 0.01 {
		t.Fatalf("200 a day: %.4f%%, want over 1%%", odds*100)
	}
}

// TestRightCodesBetweenGuessesKeepTheWindow (rev7, an attack that held): a
// right code empties max_failures' window (wrong codes in a row), so one
// who can type right codes on the side he guesses on (a thief with a
// stolen known-browser cookie who also holds a device of a shared
// account, or the owner signing in between his guesses) never meets
// max_failures; guessing from a new address each time, he meets no
// lockout_after either. He still gets no more than Guesses.Count checked
// wrong codes in its window: a right code gives back only its own slot.
func TestRightCodesBetweenGuessesKeepTheWindow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _, clk := appService(t)
	s.Limits.MaxFailures = 3
	s.Limits.Guesses = Rate{20, 24 * time.Hour}
	secret := withApp(t, s, clk)
	checked := 0
	for i := range 60 {
		clk.advance(time.Minute)
		right, _ := totp.GenerateCodeCustom(secret, clk.now(), appOpts)
		for j := range 2 {
			thief := Scope{Realm: realm, Host: host, IP: fmt.Sprintf("10.1.%d.%d", i, j), Known: true}
			if _, err := s.Devices.CheckApp(ctx, thief, alice, wrongOf(right)); errors.As(err, new(*WrongCodeError)) {
				checked++
			}
		}
		_, _ = s.Devices.CheckApp(ctx, Scope{Realm: realm, Host: host, IP: fmt.Sprintf("10.2.%d.1", i), Known: true}, alice, right)
	}
	if checked != 20 {
		t.Fatalf("120 wrong codes between 60 right ones, each from an address of its own: %d checked; want the window's 20", checked)
	}
}
