package enrollment

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/words"
)

// "N tries left" counts what will really happen: the lockout that comes
// before the challenge's last try.
func TestTriesLeftCountsTheLockout(t *testing.T) {
	t.Parallel()
	s, out, _ := limited(t, Limits{LockAfter: 3, Lockout: time.Minute, MaxFailures: 100})
	ctx := context.Background()
	c, err := s.Start(ctx, sc, Challenge{User: alice, Phone: num, Purpose: Verify})
	if err != nil {
		t.Fatal(err)
	}
	wrong := wrongOf(codeOf(t, out))
	var w *WrongCodeError
	for want := 2; want >= 1; want-- {
		if _, err := s.Check(ctx, sc, c, wrong); !errors.As(err, &w) || w.Left != want {
			t.Fatalf("wrong code: %v, want %d tries left (the lockout after 3)", err, want)
		}
	}
	var locked *LockedError
	if _, err := s.Check(ctx, sc, c, wrong); !errors.As(err, &locked) {
		t.Fatalf("the third wrong code: %v, want the lockout it announced", err)
	}
}

// A verified challenge ends its cooldown: a second browser right after a
// sign-in need not wait.
func TestVerifiedCodeEndsItsCooldown(t *testing.T) {
	t.Parallel()
	s, out, _ := newService(t)
	ctx := context.Background()
	c, err := s.Start(ctx, sc, Challenge{User: alice, Phone: num, Purpose: Verify})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Check(ctx, sc, c, codeOf(t, out)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Start(ctx, sc, Challenge{User: alice, Phone: num, Purpose: Verify}); err != nil {
		t.Fatalf("a new sign-in right after one: %v", err)
	}
}

// A phone added to an account is not the default until it is used or
// chosen.
func TestNewPhoneIsNotTheDefault(t *testing.T) {
	t.Parallel()
	s, _, clk := newService(t)
	ctx := context.Background()
	if _, err := s.Devices.Add(ctx, realm, alice, num, ""); err != nil {
		t.Fatal(err)
	}
	clk.advance(time.Hour)
	id, err := s.Devices.Add(ctx, realm, alice, "+447400123456", "Work")
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := s.Devices.Default(ctx, realm, alice); d.Phone != num {
		t.Fatalf("the default after adding a phone: %s", d.Phone)
	}
	clk.advance(time.Minute)
	if err := s.Devices.MakeDefault(ctx, realm, alice, id); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.Devices.Default(ctx, realm, alice); d.ID != id {
		t.Fatalf("the default after choosing the new phone: %s", d.Phone)
	}
}

// The built-in text speaks the user's language, and the phone remembers
// the language it was enrolled in.
func TestMessagesSpeakTheEnrolledLanguage(t *testing.T) {
	t.Parallel()
	s, out, _ := newService(t)
	s.Words = words.English
	ctx := context.Background()
	de := sc
	de.Lang = "de"
	c, err := s.Start(ctx, de, Challenge{User: alice, Phone: num, Purpose: Enroll})
	if err != nil {
		t.Fatal(err)
	}
	body := out.last(t).Body
	if !strings.HasPrefix(body, "Ihr Bestätigungscode für example.com lautet ") || !strings.HasSuffix(body, "\n\n@example.com #"+codeOf(t, out)) {
		t.Fatalf("German SMS: %q", body)
	}
	if _, err := s.Check(ctx, de, c, codeOf(t, out)); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.Devices.Default(ctx, realm, alice); d.Lang != "de" {
		t.Fatalf("the device's language: %q", d.Lang)
	}
	// An admin's own template is theirs, in every language.
	own, ownOut, _ := newService(t)
	own.Words = words.English
	var err2 error
	if own.Templates, err2 = ParseTemplates("Code {{.Code}} for {{.Site}}", ""); err2 != nil {
		t.Fatal(err2)
	}
	if _, err := own.Start(ctx, de, Challenge{User: alice, Phone: num, Purpose: Enroll}); err != nil {
		t.Fatal(err)
	}
	if body := ownOut.last(t).Body; !strings.HasPrefix(body, "Code ") {
		t.Fatalf("an admin's template was replaced: %q", body)
	}
}
