package signin

import (
	"context"
	"errors"
	"testing"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestAMalformedCodeAddsWithNoRead: the adding of a phone or an app from
// a session that names a device, as the devices pages make it (the
// context AddingWith gives, then the check of the code typed), reads
// nothing for a code of the wrong form, which the check refuses unread;
// before, the removal of the session's device was read first
// (AddingFrom: session.KeptMark) for nothing. A code of the right form
// still reads it. On Badger and Redis.
func TestAMalformedCodeAddsWithNoRead(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		counter := &tripCounter{Store: st}
		s := newServiceOn(counter, LoginForm{})
		device := "d1"
		cl := &session.Claims{Device: &device}
		cl.Subject = "alice"
		sc := enrollment.Scope{Realm: "r", Host: "example.com", IP: "192.0.2.1", Known: true}
		phone := func(code string) error {
			c := &enrollment.Challenge{ID: "c1", User: "alice", Purpose: enrollment.Add}
			_, err := s.Check(s.AddingWith(ctx, "r", cl, code, s.CodeLength), sc, &Flow{}, "alice", c, code, nil)
			return err
		}
		app := func(code string) error {
			return s.ConfirmApp(s.AddingWith(ctx, "r", cl, code, AppCodeLength), sc, "alice", code, "", nil)
		}
		for _, code := range []string{"12a456", "12345", "1234567", ""} {
			for kind, add := range map[string]func(string) error{"phone": phone, "app": app} {
				if err := add(code); !errors.As(err, new(*CodeFormatError)) {
					t.Errorf("%s with code %q: %v; want a format error", kind, code, err)
				}
			}
		}
		if n := counter.trips.Load(); n != 0 {
			t.Errorf("malformed codes made %d store reads; want none", n)
		}
		s.AddingWith(ctx, "r", cl, "123 456", s.CodeLength)
		if n := counter.trips.Load(); n != 1 {
			t.Errorf("a well-formed code's adding made %d store reads; want 1 (whether the removal of its session's device kept it)", n)
		}
	})
}
