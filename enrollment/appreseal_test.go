package enrollment

import (
	"context"
	"errors"
	"testing"

	"github.com/pquerna/otp/totp"

	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestAppsAreSealedAgainUnderANewKey: on Badger and Redis, apps sealed
// under one key open after the sealer's Rekey (the old key kept in
// memory), ResealApps seals them again under the new key (a sealer that
// never held the old one opens them then), and a second pass finds
// nothing to do. An app no key opens is a dead device: its user's codes
// are answered ErrAppUnreadable (no failure counted), while a user with
// no app, or with a live app beside the dead one, is answered as before.
func TestAppsAreSealedAgainUnderANewKey(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		s, _, clk := appServiceOn(t, st)
		sealer, err := session.NewSealer(session.Derive([]byte("the first secret, of thirty-two bytes"), "app secrets"))
		if err != nil {
			t.Fatal(err)
		}
		s.Secrets = sealer
		secrets := addApps(t, s, clk, alice, 2)
		bobs := addApps(t, s, clk, "bob", 1)
		clk.advance(2 * appPeriod)
		code := func(secret string) string {
			c, err := totp.GenerateCodeCustom(secret, clk.now(), appOpts)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}

		newKey := session.Derive([]byte("the second secret, of thirty-two bytes"), "app secrets")
		if err := sealer.Rekey(newKey); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Devices.CheckApp(ctx, enrolled, alice, code(secrets[0])); err != nil {
			t.Fatalf("alice's app after the new key, before the pass: %v", err)
		}
		if n, err := s.Devices.ResealApps(ctx, realm); err != nil || n != 3 {
			t.Fatalf("the pass: %d sealed again, %v; want 3", n, err)
		}
		if n, err := s.Devices.ResealApps(ctx, realm); err != nil || n != 0 {
			t.Fatalf("a second pass: %d sealed again, %v; want 0", n, err)
		}
		fresh, err := session.NewSealer(newKey) // a gate started afresh: no old key
		if err != nil {
			t.Fatal(err)
		}
		s.Secrets = fresh
		clk.advance(2 * appPeriod)
		if _, err := s.Devices.CheckApp(ctx, enrolled, alice, code(secrets[1])); err != nil {
			t.Fatalf("alice's app sealed again, at a gate without the old key: %v", err)
		}

		// Dead: a key that opens none of them.
		other, err := session.NewSealer(session.Derive([]byte("a third secret, of thirty-two bytes!"), "app secrets"))
		if err != nil {
			t.Fatal(err)
		}
		s.Secrets = other
		clk.advance(2 * appPeriod)
		for range 3 {
			if _, err := s.Devices.CheckApp(ctx, enrolled, "bob", code(bobs[0])); !errors.Is(err, ErrAppUnreadable) {
				t.Fatalf("bob's dead app: %v, want ErrAppUnreadable", err)
			}
		}
		if _, err := s.Devices.CheckApp(ctx, enrolled, "carol", "123456"); !errors.As(err, new(*WrongCodeError)) {
			t.Fatalf("a user with no app: %v, want a wrong code", err)
		}
		live := addApps(t, s, clk, "bob", 1) // bob adds it again, beside the dead one
		clk.advance(2 * appPeriod)
		if _, err := s.Devices.CheckApp(ctx, enrolled, "bob", wrongForEvery(t, clk.now(), live)); !errors.As(err, new(*WrongCodeError)) {
			t.Fatalf("a wrong code, bob holding a live app beside the dead one: %v, want a wrong code", err)
		}
		if _, err := s.Devices.CheckApp(ctx, enrolled, "bob", code(live[0])); err != nil {
			t.Fatalf("bob's live app beside the dead one: %v", err)
		}
	})
}
