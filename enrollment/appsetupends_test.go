package enrollment

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/smsgate/caddy-smsgate/store"
)

// lastTTL is the expiry l's last write of user's setup was made with,
// forgotten once read (0: none since).
func (l *ttlLog) lastTTL(user string) time.Duration {
	key := appSetupKey(realm, user)
	ttl := l.ttl[key]
	delete(l.ttl, key)
	return ttl
}

// TestACarriedAppSetupEndsAtItsOriginalTenMinutes (invite24, review25's
// S1): a setup carried to a step-up's new session (CarryApp) after 7
// minutes is written with the 3 it had left, and again at 9 with 1; at
// 10 minutes past its start, by the service's clock, it is gone: not
// shown, not confirmed, not carried. On Badger and a real Redis. (Before,
// each carry wrote it with a fresh 10 minutes: stepping up now and then
// kept a setup alive for ever.)
func TestACarriedAppSetupEndsAtItsOriginalTenMinutes(t *testing.T) {
	t.Parallel()
	onRaceStores(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		log := &ttlLog{Store: st, ttl: map[string]time.Duration{}}
		s, _, clk := appServiceOn(t, log)
		setup, err := s.Devices.StartApp(ctx, realm, alice, "Example", "sid-one")
		if err != nil {
			t.Fatal(err)
		}
		log.lastTTL(alice)
		carry := func(after time.Duration, from, to string, left time.Duration) {
			t.Helper()
			clk.advance(after)
			if err := s.Devices.CarryApp(ctx, realm, alice, from, to); err != nil {
				t.Fatal(err)
			}
			if got := log.lastTTL(alice); got != left {
				t.Errorf("carried to %s: written to expire in %v; want the %v it had left", to, got, left)
			}
			if got, err := s.Devices.PendingApp(ctx, realm, alice, to); err != nil || got.Secret != setup.Secret {
				t.Fatalf("carried to %s: %+v, %v", to, got, err)
			}
		}
		carry(7*time.Minute, "sid-one", "sid-two", 3*time.Minute)
		carry(2*time.Minute, "sid-two", "sid-three", time.Minute)

		clk.advance(time.Minute) // 10 minutes since it began
		if got, err := s.Devices.PendingApp(ctx, realm, alice, "sid-three"); !errors.Is(err, ErrNoAppSetup) {
			t.Errorf("a setup 10 minutes after it began, carried twice: shown %+v, %v", got, err)
		}
		code, err := totp.GenerateCodeCustom(setup.Secret, clk.now(), appOpts)
		if err != nil {
			t.Fatal(err)
		}
		if _, added, err := s.Devices.ConfirmApp(ctx, Scope{Realm: realm, Host: host, IP: "192.0.2.1"}, alice, code, ""); !errors.Is(err, ErrNoAppSetup) || added {
			t.Errorf("a setup 10 minutes after it began, carried twice: confirmed (added %v, %v)", added, err)
		}
		if err := s.Devices.CarryApp(ctx, realm, alice, "sid-three", "sid-four"); err != nil || log.lastTTL(alice) != 0 {
			t.Errorf("a setup that ended was carried again: %v", err)
		}
	})
}

// TestTheSetupRecordOfThePreviousReleaseIsRead: the previous release
// wrote "2." and the sealing of the SID and the URI (no end: the store's
// expiry was its only one). Such a record is shown to its session and
// confirmed; carried, it is written in this release's form, ending
// appSetupTTL after the carry (the store's expiry was not to be read),
// and ends then. On Badger and a real Redis.
func TestTheSetupRecordOfThePreviousReleaseIsRead(t *testing.T) {
	t.Parallel()
	onRaceStores(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		log := &ttlLog{Store: st, ttl: map[string]time.Duration{}}
		s, _, clk := appServiceOn(t, log)
		// As the previous release's sealSetup wrote it.
		previous := func(user, sid, uri string) {
			t.Helper()
			raw := "2." + s.Secrets.Seal(sid+"\n"+uri, appSetupKey(realm, user))
			if err := st.Put(ctx, appSetupKey(realm, user), []byte(raw), appSetupTTL); err != nil {
				t.Fatal(err)
			}
		}
		for _, user := range []string{alice, "bob"} {
			setup, err := s.Devices.StartApp(ctx, realm, user, "Example", "")
			if err != nil {
				t.Fatal(err)
			}
			previous(user, "sid-one", setup.URI)
			log.lastTTL(user) // StartApp's
			if got, err := s.Devices.PendingApp(ctx, realm, user, "sid-one"); err != nil || got.Secret != setup.Secret || got.URI != setup.URI {
				t.Fatalf("%s: the previous release's setup shown as %+v, %v; want %+v", user, got, err, setup)
			}
			if user == alice {
				code, err := totp.GenerateCodeCustom(setup.Secret, clk.now(), appOpts)
				if err != nil {
					t.Fatal(err)
				}
				if _, added, err := s.Devices.ConfirmApp(ctx, Scope{Realm: realm, Host: host, IP: "192.0.2.1"}, user, code, ""); err != nil || !added {
					t.Fatalf("the previous release's setup confirmed: added %v, %v", added, err)
				}
				continue
			}
			clk.advance(4 * time.Minute)
			if err := s.Devices.CarryApp(ctx, realm, user, "sid-one", "sid-two"); err != nil {
				t.Fatal(err)
			}
			if got := log.lastTTL(user); got != appSetupTTL {
				t.Errorf("the previous release's setup carried: written to expire in %v; want %v", got, appSetupTTL)
			}
			if raw, err := st.Get(ctx, appSetupKey(realm, user)); err != nil || !strings.HasPrefix(string(raw), setupFormat) {
				t.Errorf("the previous release's setup carried: %.8q, %v; want this release's form", raw, err)
			}
			clk.advance(appSetupTTL - time.Second)
			if got, err := s.Devices.PendingApp(ctx, realm, user, "sid-two"); err != nil || got.Secret != setup.Secret {
				t.Fatalf("carried, before its end: %+v, %v", got, err)
			}
			clk.advance(time.Second)
			if got, err := s.Devices.PendingApp(ctx, realm, user, "sid-two"); !errors.Is(err, ErrNoAppSetup) {
				t.Errorf("carried, at its end: shown %+v, %v", got, err)
			}
		}
	})
}
