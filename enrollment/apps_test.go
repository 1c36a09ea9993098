package enrollment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
)

// appService is newService with a sealer for app secrets.
func appService(t testing.TB) (*Challenges, *outbox, *clock) {
	t.Helper()
	return appServiceOn(t, nil)
}

// appServiceOn is appService on st (newServiceOn).
func appServiceOn(t testing.TB, st store.Store) (*Challenges, *outbox, *clock) {
	t.Helper()
	s, out, clk := newServiceOn(t, st)
	sealer, err := session.NewSealer(session.Derive([]byte("0123456789abcdef0123456789abcdef"), "apps"))
	if err != nil {
		t.Fatal(err)
	}
	s.Secrets = sealer
	s.Limits = DefaultLimits
	return s, out, clk
}

// TestAppRFC6238Vectors: RFC 6238's SHA-1 test vectors (appendix B), as
// six digits (the last six of the eight there), each found at its step.
func TestAppRFC6238Vectors(t *testing.T) {
	t.Parallel()
	secret := "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" // "12345678901234567890"
	for at, code := range map[int64]string{59: "287082", 1111111109: "081804", 1111111111: "050471",
		1234567890: "005924", 2000000000: "279037", 20000000000: "353130"} {
		step, ok := appStep(secret, code, time.Unix(at, 0))
		if !ok || step != at/30 {
			t.Errorf("T=%d: code %s: step %d, %v; want %d", at, code, step, ok, at/30)
		}
	}
}

// TestAppClockSkew: a step either side is accepted, two are not.
func TestAppClockSkew(t *testing.T) {
	t.Parallel()
	secret := "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
	now := time.Unix(1_800_000_015, 0)
	for d, want := range map[int]bool{-2: false, -1: true, 0: true, 1: true, 2: false} {
		code, err := totp.GenerateCodeCustom(secret, now.Add(time.Duration(d)*appPeriod), appOpts)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := appStep(secret, code, now); ok != want {
			t.Errorf("a code %d steps off: accepted %v, want %v", d, ok, want)
		}
	}
	if _, ok := appStep(secret, "12345", now); ok {
		t.Error("five digits accepted")
	}
}

// TestAppFlow: an app is added only with a right code, its secret is kept
// sealed, a code works once, and the next step's code works.
func TestAppFlow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _, clk := appService(t)
	setup, err := s.Devices.StartApp(ctx, realm, alice, "Example", "")
	if err != nil {
		t.Fatal(err)
	}
	qr, err := setup.QR()
	if err != nil || !strings.HasPrefix(setup.URI, "otpauth://totp/") || len(qr) < 100 || string(qr[1:4]) != "PNG" {
		t.Fatalf("setup: %q, %d bytes of QR (%v)", setup.URI, len(qr), err)
	}
	var wrong *WrongCodeError
	if _, _, err := s.Devices.ConfirmApp(ctx, sc, alice, "000000", "phone app"); !errors.As(err, &wrong) {
		t.Fatalf("a wrong first code: %v", err)
	}
	if list, _ := s.Devices.List(ctx, realm, alice); len(list) != 0 {
		t.Fatal("a device before its first right code")
	}
	code := func() string {
		c, err := totp.GenerateCodeCustom(setup.Secret, clk.now(), appOpts)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	id, added, err := s.Devices.ConfirmApp(ctx, sc, alice, code(), "phone app")
	if err != nil || !added {
		t.Fatal(added, err)
	}
	if _, _, err := s.Devices.ConfirmApp(ctx, sc, alice, code(), "again"); !errors.Is(err, ErrNoAppSetup) {
		t.Fatalf("a second confirm of one setup: %v", err)
	}
	raw, _ := s.Store.Get(ctx, deviceKey(realm, alice))
	if strings.Contains(string(raw), setup.Secret) || !strings.Contains(string(raw), `"kind":"totp"`) {
		t.Fatalf("the device record shows its secret, or no kind: %s", raw)
	}
	// The code that confirmed the app is used: it does not sign in.
	if _, err := s.Devices.CheckApp(ctx, sc, alice, code()); !errors.Is(err, ErrCodeUsed) {
		t.Fatalf("the confirming code again: %v", err)
	}
	clk.advance(appPeriod)
	d, err := s.Devices.CheckApp(ctx, sc, alice, code())
	if err != nil || d.ID != id || d.Name != "phone app" {
		t.Fatalf("the next step's code: %+v, %v", d, err)
	}
	if _, err := s.Devices.CheckApp(ctx, sc, alice, code()); !errors.Is(err, ErrCodeUsed) {
		t.Fatalf("a replayed code: %v", err)
	}
	// A phone-only path never picks the app.
	if p, _ := s.Devices.Default(ctx, realm, alice); p != nil {
		t.Fatalf("the default phone of an app-only user: %+v", p)
	}
	if p, _ := s.Devices.ByID(ctx, realm, alice, id); p != nil {
		t.Fatal("the app as a phone to text")
	}
	// A lookup of any kind finds it (signin.Service.Holds: a sign-in the
	// app earned stands).
	if d, err := s.Devices.Find(ctx, realm, alice, id); err != nil || d == nil || d.ID != id {
		t.Fatalf("the app by its ID: %+v, %v", d, err)
	}
}

// TestAppGuessesShareTheLockout: wrong app codes and wrong texted codes
// count toward one lockout, which then refuses both — even a right code.
func TestAppGuessesShareTheLockout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, out, clk := appService(t)
	s.Limits.LockAfter = 4
	setup, _ := s.Devices.StartApp(ctx, realm, alice, "Example", "")
	first, _ := totp.GenerateCodeCustom(setup.Secret, clk.now(), appOpts)
	if _, _, err := s.Devices.ConfirmApp(ctx, sc, alice, first, ""); err != nil {
		t.Fatal(err)
	}
	clk.advance(appPeriod)
	c, err := s.Start(ctx, sc, Challenge{User: alice, Phone: num, Purpose: Verify})
	if err != nil {
		t.Fatal(err)
	}
	texted := codeOf(t, out)
	for range 2 {
		if _, err := s.Check(ctx, sc, c, wrongOf(texted)); !errors.As(err, new(*WrongCodeError)) {
			t.Fatalf("a wrong texted code: %v", err)
		}
	}
	var wrong *WrongCodeError
	if _, err := s.Devices.CheckApp(ctx, sc, alice, "000000"); !errors.As(err, &wrong) || wrong.Left != 1 {
		t.Fatalf("a wrong app code after two wrong texted ones: %v, want 1 try left", err)
	}
	var locked *LockedError
	if _, err := s.Devices.CheckApp(ctx, sc, alice, "000001"); !errors.As(err, &locked) {
		t.Fatalf("the fourth wrong code: %v, want a lockout", err)
	}
	right, _ := totp.GenerateCodeCustom(setup.Secret, clk.now(), appOpts)
	if _, err := s.Devices.CheckApp(ctx, sc, alice, right); !errors.As(err, &locked) {
		t.Fatalf("a right app code while locked out: %v", err)
	}
	if _, err := s.Check(ctx, sc, c, texted); !errors.As(err, &locked) {
		t.Fatalf("the right texted code while locked out: %v", err)
	}
}

// TestAppExportImport: an export carries an app with its secret sealed
// (never in clear), and after an import into another store — on a gate
// with the same signing secret — the app still signs in.
func TestAppExportImport(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _, clk := appService(t)
	setup, _ := s.Devices.StartApp(ctx, realm, alice, "Example", "")
	first, _ := totp.GenerateCodeCustom(setup.Secret, clk.now(), appOpts)
	if _, _, err := s.Devices.ConfirmApp(ctx, sc, alice, first, "Aegis"); err != nil {
		t.Fatal(err)
	}
	admin := &Admin{Core: s.Core, Devices: s.Devices}
	records, err := admin.Export(ctx, "", false)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(records)
	if strings.Contains(string(raw), setup.Secret) || !strings.Contains(string(raw), `"kind":"totp"`) {
		t.Fatalf("the export shows the secret, or no app: %s", raw)
	}

	moved, _, _ := appService(t) // a new store, the same signing secret
	moved.Now = clk.now
	if _, err := (&Admin{Core: moved.Core, Devices: moved.Devices}).Import(ctx, records); err != nil {
		t.Fatal(err)
	}
	clk.advance(appPeriod)
	code, _ := totp.GenerateCodeCustom(setup.Secret, clk.now(), appOpts)
	if d, err := moved.Devices.CheckApp(ctx, sc, alice, code); err != nil || d.Name != "Aegis" {
		t.Fatalf("the app after an import: %+v, %v", d, err)
	}
}

// TestARightAppConfirmationForgetsTheWrongOnes: the right code that adds
// an app forgets the wrong confirmation tries before it (taken back from
// the counts: forgetConfirmations), here every wrong code there was, so
// both the lockout's count (LockAfter) and the account's (MaxFailures)
// start afresh; what other codes got wrong stays
// (TestARightAppConfirmationForgetsNoOtherWrongCodes).
func TestARightAppConfirmationForgetsTheWrongOnes(t *testing.T) {
	t.Parallel()
	onRaceStoresAndCluster(t, func(t *testing.T, st store.Store) {
		for name, l := range bothLocks(3) {
			ctx := context.Background()
			s, _, clk := appServiceOn(t, st)
			s.Limits = l
			user := "alice-" + name
			setup, err := s.Devices.StartApp(ctx, realm, user, "Example", "")
			if err != nil {
				t.Fatal(err)
			}
			for range 2 {
				wrongConfirmation(t, s, user)
			}
			right, _ := totp.GenerateCodeCustom(setup.Secret, clk.now(), appOpts)
			if _, added, err := s.Devices.ConfirmApp(ctx, sc, user, right, ""); err != nil || !added {
				t.Fatalf("%s 3: the right first code: %v, %v", name, added, err)
			}
			for range 2 {
				if _, err := s.Devices.CheckApp(ctx, sc, user, "000000"); !errors.As(err, new(*WrongCodeError)) {
					t.Fatalf("%s 3: a wrong code after the right confirmation: %v; want it counted afresh", name, err)
				}
			}
			if _, err := s.Devices.CheckApp(ctx, sc, user, "000000"); !errors.As(err, new(*LockedError)) {
				t.Fatalf("%s 3: a third wrong code in a row: %v; want a lock", name, err)
			}
		}
	})
}

// TestARightAppConfirmationForgetsNoOtherWrongCodes: the code that adds
// an app is of a secret the page just showed whoever holds the session,
// so it forgets the wrong confirmation tries before it and nothing else:
// two wrong step-up codes, an app added with a right code, and the third
// wrong step-up code locks — the lockout's count (LockAfter) and the
// account's (MaxFailures). A wrong confirmation counts with the others:
// one wrong step-up code, one wrong confirmation and one wrong step-up
// code lock too. On Badger, a real Redis and a Cluster. Before, the confirmation
// forgot every count: a session holder could guess step-up codes without
// end, adding an app between every two.
func TestARightAppConfirmationForgetsNoOtherWrongCodes(t *testing.T) {
	t.Parallel()
	onRaceStoresAndCluster(t, func(t *testing.T, st store.Store) {
		for name, l := range bothLocks(3) {
			for _, confirmWrong := range []bool{false, true} {
				ctx := context.Background()
				s, out, clk := appServiceOn(t, st)
				s.Limits = l
				user := fmt.Sprint("alice-", name, "-", confirmWrong)
				c, err := s.Start(ctx, sc, Challenge{User: user, Phone: num, Purpose: Verify})
				if err != nil {
					t.Fatal(err)
				}
				wrong := wrongOf(codeOf(t, out))
				setup, err := s.Devices.StartApp(ctx, realm, user, "Example", "")
				if err != nil {
					t.Fatal(err)
				}
				if _, err := s.Check(ctx, sc, c, wrong); !errors.As(err, new(*WrongCodeError)) {
					t.Fatalf("%s: the first wrong step-up code: %v", name, err)
				}
				if confirmWrong {
					wrongConfirmation(t, s, user)
				} else {
					if _, err := s.Check(ctx, sc, c, wrong); !errors.As(err, new(*WrongCodeError)) {
						t.Fatalf("%s: the second wrong step-up code: %v", name, err)
					}
					right, _ := totp.GenerateCodeCustom(setup.Secret, clk.now(), appOpts)
					if _, added, err := s.Devices.ConfirmApp(ctx, sc, user, right, ""); err != nil || !added {
						t.Fatalf("%s: the app's right first code: %v, %v", name, added, err)
					}
				}
				if _, err := s.Check(ctx, sc, c, wrong); !errors.As(err, new(*LockedError)) {
					t.Fatalf("%s (a wrong confirmation among them: %v): the third wrong code: %v; want a lock", name, confirmWrong, err)
				}
			}
		}
	})
}
