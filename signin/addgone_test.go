package signin

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestADeviceAddedFromASessionSignedInAsTheSettleRemovedItsDeviceIsRefused:
// the thief's phone Y, added from alice's config phone's session, signs
// in between the settle's first end of Y and its removal of Y (Y still
// hers: the sign-in is let in, its session issued after that end), and
// adds an app, or a phone, from that session between the removal and
// the second end (review14 L4). Y no longer listed, the device would name
// nothing, so no round of the settle finds it, and the session, not yet
// ended, kept it. Now the adding of a device from a session whose device
// left her list is refused in the list's own update (enrollment's
// stampAdded): nothing is added, and the adding answers as for an ended
// session. Before: the app or the phone stayed, and signed the thief in
// after the number's change.
func TestADeviceAddedFromASessionSignedInAsTheSettleRemovedItsDeviceIsRefused(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"app", "phone"} {
		// One level of parallel parts, app/badger and so on (storetest's
		// OnBadgerAndRedisAs): a kind that was a parallel subtest of its
		// own had its parts queue again behind the package's waiting tests
		// (docs/TESTING.md, speed40b and speed41b).
		storetest.OnBadgerAndRedisAs(t, kind+"/", func(t *testing.T, st store.Store) {
			ctx := context.Background()
			wrapped := &addsAfter{Store: st}
			s, moved, _, first, started := thiefsPhone(t, st, wrapped)
			y := *first.Device
			var late atomic.Bool // the settle's clock, once Y's sign-in came
			moved.Devices.Now = func() time.Time {
				if late.Load() {
					return time.Now().Add(5 * time.Second)
				}
				return time.Now()
			}
			// Its sign-in comes seconds after the first end (iat whole seconds).
			m, err := session.NewManager(ctx, session.Config{Store: st, Realm: "r", Lifetime: time.Hour,
				Now: func() time.Time { return time.Now().Add(2 * time.Second) }})
			if err != nil {
				t.Fatal(err)
			}
			sc := enrollment.Scope{Realm: "r", Host: "example.com", IP: "192.0.2.1", Known: true}
			add := adding(t, s, kind, sc)

			var cl *session.Claims
			wrapped.before = func() {
				if held, err := s.Holds(ctx, "r", "alice", y); err != nil || !held {
					t.Errorf("between the settle's first end and its removal: Y held %v (%v); want held", held, err)
				}
				token, _, err := m.IssueBegun(ctx, m.Begin(), "alice", []factor.AMR{factor.AMRSMS}, session.Where{Device: &y})
				if err != nil {
					t.Fatal(err)
				}
				if cl, err = m.Verify(token); err != nil {
					t.Fatal(err)
				}
				late.Store(true)
			}
			var added error
			wrapped.add = func() {
				live := func(ctx context.Context) (bool, error) { return m.Live(ctx, cl) }
				if ok, err := live(ctx); err != nil || !ok {
					t.Errorf("between the removal and its second end: Y's new session live %v (%v); want live", ok, err)
				}
				added = add(s.AddingFrom(ctx, "r", cl), live)
			}
			wrapped.armed.Store(true)
			if err := settleRealm(ctx, started, moved); err != nil {
				t.Fatal(err)
			}
			if wrapped.armed.Load() || cl == nil {
				t.Fatal("the settle never removed Y")
			}
			want := ErrEnded
			if kind == "phone" {
				want = enrollment.ErrNoChallenge // its code used up: a new sign-in
			}
			if names := namesOf(t, s); len(names) != 0 || !errors.Is(added, want) {
				t.Errorf("her number changed: her devices %q, the adding answered %v; want none (Y the lost number's, Z added from Y's session signed in as Y went) and %v", names, added, want)
			}
			if ok, err := m.Live(ctx, cl); err != nil || ok {
				t.Errorf("after the settle: Y's new session live %v (%v); want ended (the second end)", ok, err)
			}
		})
	}
}

// adding is how kind ("app", "phone") is added to alice's devices as
// "Z", from the session whose ctx and live it is given: its setup done
// now, its code checked then.
func adding(t *testing.T, s *Service, kind string, sc enrollment.Scope) func(context.Context, Live) error {
	t.Helper()
	ctx := context.Background()
	if kind == "app" {
		setup, err := s.StartApp(ctx, "r", "alice", "")
		if err != nil {
			t.Fatal(err)
		}
		code, err := totp.GenerateCode(setup.Secret, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return func(ctx context.Context, live Live) error { return s.ConfirmApp(ctx, sc, "alice", code, "Z", live) }
	}
	tpl, err := enrollment.ParseTemplates("", "")
	if err != nil {
		t.Fatal(err)
	}
	sent := new(codes)
	s.Identity = FirstFactor{Open: true}
	s.Challenges.Sender, s.Challenges.Templates = sent, tpl
	s.Challenges.CodeTTL, s.Challenges.MaxAttempts, s.Challenges.CodeLength = time.Hour, 5, 6
	f := &Flow{ID: enrollment.RandomID(), User: "alice"}
	c, err := s.AddPhone(ctx, sc, f, "alice", "+14155559002", "", "Z")
	if err != nil {
		t.Fatal(err)
	}
	code := sent.take()
	return func(ctx context.Context, live Live) error {
		_, err := s.Check(ctx, sc, f, "alice", c, code, live)
		return err
	}
}

// TestAddsFromSessionsNamingNoListedDevice: the refusal of a device added
// from a session whose device left her list spares the sessions that
// name none of her list's: her recovery code's session that her removal
// of her lost phone Y kept adds her new phone (AddingFrom names no device
// for it), a config phone's session adds (its mark is no device: the
// device records it), and a session of the release before the claim (no
// device named: an app's, so not the config phone's) adds. Another recovery session naming Y (the thief's,
// with a code of the same set; Y's removal ended it) adds nothing. On
// Badger and Redis.
func TestAddsFromSessionsNamingNoListedDevice(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		s := alicesGate(st, alicesPhone)
		s.AllowRemoveLast = true
		y, _, err := s.Devices.AddIn(ctx, "r", "alice", "+14155559001", "Y", "en")
		if err != nil {
			t.Fatal(err)
		}
		m, err := session.NewManager(ctx, session.Config{Store: st, Realm: "r", Lifetime: time.Hour, Now: time.Now})
		if err != nil {
			t.Fatal(err)
		}
		signIn := func(amr factor.AMR, device *string) *session.Claims {
			t.Helper()
			token, _, err := m.IssueBegun(ctx, m.Begin(), "alice", []factor.AMR{amr}, session.Where{Device: device})
			if err != nil {
				t.Fatal(err)
			}
			cl, err := m.Verify(token)
			if err != nil {
				t.Fatal(err)
			}
			return cl
		}
		hers, thiefs := signIn(factor.AMRRecovery, &y), signIn(factor.AMRRecovery, &y)
		if _, err := s.RemovePhone(ctx, "r", "alice", y, hers); err != nil {
			t.Fatal(err)
		}
		mark := s.numberMark(alicesPhone)
		for _, c := range []struct {
			name, e164 string
			from       *session.Claims
			refused    bool
			addedBy    string
		}{
			{"her new phone", "+14155559002", hers, false, ""},
			{"the thief's", "+14155559003", thiefs, true, ""},
			{"the config phone's", "+14155559004", signIn(factor.AMRSMS, &mark), false, mark},
			{"the release before's", "+14155559005", signIn(factor.AMROTP, nil), false, ""},
		} {
			id, added, err := s.Devices.AddIn(s.AddingFrom(ctx, "r", c.from), "r", "alice", c.e164, c.name, "en")
			if c.refused {
				if !errors.Is(err, ErrEnded) {
					t.Errorf("%s, added from a session of the removed Y: %v; want refused, ErrEnded", c.name, err)
				}
				continue
			}
			if err != nil || !added {
				t.Errorf("%s: added %v (%v); want added", c.name, added, err)
				continue
			}
			d, err := s.Devices.Find(ctx, "r", "alice", id)
			if err != nil || d == nil || d.AddedBy != c.addedBy {
				t.Errorf("%s: found %v (%v); want it, added by %q", c.name, d, err, c.addedBy)
			}
		}
		if names := namesOf(t, s); len(names) != 3 {
			t.Errorf("her devices %q; want her new phone, the config phone's and the release before's", names)
		}
	})
}

// TestTheKeptRecoverySessionsDeviceGoesWithTheLostNumber: the thief,
// holding alice's config phone X, adds his phone Y from X's session (Y
// records X's mark), signs in with a recovery code of a set Y's session
// made, removes Y from that session (the removal keeps it: a recovery
// code's) and adds Z from it. Z records the mark Y recorded (the device's
// end keeps it for the kept session: session.KeptMark), as a device added
// from Y's session while Y was listed did, so the config giving alice
// another number removes Z too; a set of codes the session renews names
// that mark (Maker), and goes with the number too. Before, Z and the set
// named nothing and stayed, signing the thief in after the number's
// change. (Her own kept session,
// of a device naming no config phone, adds a device naming nothing:
// TestAddsFromSessionsNamingNoListedDevice.) On Badger and Redis.
func TestTheKeptRecoverySessionsDeviceGoesWithTheLostNumber(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		s, y := thiefsYOnAlicesGate(t, st)
		_, _, kept := recoverySession(t, st, y)
		if _, err := s.RemovePhone(ctx, "r", "alice", y, kept); err != nil {
			t.Fatal(err)
		}
		if ok, _, err := session.KeptMark(ctx, st, "r", kept); err != nil || !ok {
			t.Fatalf("the recovery session that removed Y: kept %v (%v); want kept", ok, err)
		}
		z, added, err := s.Devices.AddIn(s.AddingFrom(ctx, "r", kept), "r", "alice", "+14155559002", "Z", "en")
		if err != nil || !added {
			t.Fatalf("Z from the kept session: added %v (%v); want added", added, err)
		}
		if d, err := s.Devices.Find(ctx, "r", "alice", z); err != nil || d == nil || d.AddedBy != s.numberMark(alicesPhone) {
			t.Errorf("Z: %+v (%v); want it, recording X's mark as Y did", d, err)
		}
		maker, err := s.Maker(ctx, "r", kept)
		if err != nil || maker != s.numberMark(alicesPhone) {
			t.Errorf("a set the kept session renews names %q (%v); want X's mark, as Y recorded", maker, err)
		}
		live := func(context.Context) (bool, error) { return true, nil }
		codes, err := s.RenewRecovery(ctx, "r", "alice", maker, live)
		if err != nil {
			t.Fatal(err)
		}
		if err := settleRealm(ctx, time.Time{}, alicesGate(st, herNewPhone)); err != nil {
			t.Fatal(err)
		}
		if names := namesOf(t, s); len(names) != 0 {
			t.Errorf("her number changed: her devices %q; want none (Z added from the session Y's removal kept)", names)
		}
		if _, err := s.Devices.UseRecoveryCodeOf(ctx, enrollment.Scope{Realm: "r", IP: "192.0.2.1"}, "f", "alice", codes[0]); err == nil {
			t.Error("her number changed: a code of the set the kept session renewed still signs in")
		}
	})
}
