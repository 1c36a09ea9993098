package signin

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// addsFirst is a store whose first Update of a key ending in key, once
// armed, first runs add (another session's adding, landing as the
// settle removes).
type addsFirst struct {
	store.Store
	key   string
	add   func(context.Context)
	armed atomic.Bool
}

func (a *addsFirst) Update(ctx context.Context, k string, change func([]byte, bool) ([]byte, time.Duration, error)) error {
	if strings.HasSuffix(k, a.key) && a.armed.Swap(false) {
		a.add(ctx)
	}
	return a.Store.Update(ctx, k, change)
}

// TestASettleRemovesWhatWasAddedWhileItRemoved: the thief's phone Y,
// added from alice's config phone's session, still has a session the
// settle did not end (one issued at a gate still on the old config, or
// another instance), and adds Z from it just as the settle removes Y
// (review13 L1): Z records the lost number (Y still listed), but the
// settle had read her devices before. It reads them again until a round
// finds none of the lost number's: Z goes too. Before, Z stayed, and
// signed the thief in after the number's change.
func TestASettleRemovesWhatWasAddedWhileItRemoved(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		wrapped := &addsFirst{Store: st, key: "/alice"}
		s := alicesGate(wrapped, alicesPhone)
		y := theThiefsY(t, s)
		wrapped.key = store.Key("device", "r", "alice")
		wrapped.add = func(ctx context.Context) {
			if _, _, err := s.Devices.AddIn(enrollment.AddedFrom(ctx, y), "r", "alice", "+14155559002", "Z", "en"); err != nil {
				t.Error(err)
			}
		}
		wrapped.armed.Store(true)
		if err := settleRealm(ctx, time.Time{}, alicesGate(wrapped, herNewPhone)); err != nil {
			t.Fatal(err)
		}
		list, err := s.Devices.List(ctx, "r", "alice")
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, d := range list {
			names = append(names, d.Name)
		}
		if len(list) != 0 {
			t.Errorf("her number changed: her devices %q; want none (Y and Z added by the lost number's sessions)", names)
		}
	})
}

// addsAfter is a store whose first Update of key, once armed, runs add
// once it is written (another session's adding, landing just after the
// settle's removal took a device off her list), or, where refuse, fails
// without writing (a store failing the removal); before it, before (if
// not nil: a sign-in landing between the settle's first end of the
// device and its removal).
type addsAfter struct {
	store.Store
	key         string
	before, add func()
	refuse      bool
	armed       atomic.Bool
}

func (a *addsAfter) Update(ctx context.Context, k string, change func([]byte, bool) ([]byte, time.Duration, error)) error {
	if k != a.key || !a.armed.Swap(false) {
		return a.Store.Update(ctx, k, change)
	}
	if a.before != nil {
		a.before()
	}
	if a.refuse {
		return errors.New("the store failed")
	}
	err := a.Store.Update(ctx, k, change)
	a.add()
	return err
}

// thiefsPhone is alice's config phone's settle on st (wrapped), the
// thief's phone Y added from that phone's session, and a session of Y's
// (cl, on m) issued after started, when the config that gives her another
// number (moved) started: that settle does not end it.
func thiefsPhone(t *testing.T, st store.Store, wrapped *addsAfter) (s, moved *Service, m *session.Manager, cl *session.Claims, started time.Time) {
	ctx := context.Background()
	s = alicesGate(wrapped, alicesPhone)
	sealer, err := session.NewSealer(session.Derive([]byte("0123456789abcdef0123456789abcdef"), "apps"))
	if err != nil {
		t.Fatal(err)
	}
	s.Devices.Secrets, s.Devices.Limits = sealer, enrollment.DefaultLimits
	y := theThiefsY(t, s)
	if m, err = session.NewManager(ctx, session.Config{Store: st, Realm: "r", Lifetime: time.Hour, Now: time.Now}); err != nil {
		t.Fatal(err)
	}
	started = time.Now().Add(-2 * time.Second) // whole-second iat: Y's session is after it
	token, _, err := m.IssueBegun(ctx, m.Begin(), "alice", []factor.AMR{factor.AMRSMS}, session.Where{Device: &y})
	if err != nil {
		t.Fatal(err)
	}
	if cl, err = m.Verify(token); err != nil {
		t.Fatal(err)
	}
	wrapped.key = store.Key("device", "r", "alice")
	return s, alicesGate(wrapped, herNewPhone), m, cl, started
}

// alicesPhone is alice's config phone, the thief's; herNewPhone the one
// the admin gives her in its place.
const alicesPhone, herNewPhone = "+14155552671", "+447400123456"

// alicesGate is a gate on st whose config gives alice the phone phone
// (a provisioned user).
func alicesGate(st store.Store, phone string) *Service {
	alice := User{Name: "alice", Phone: phone}
	s := newServiceOn(st, nil)
	s.Users, s.Phones = map[string]User{"alice": alice}, map[string]User{phone: alice}
	s.Logger, s.Notices, s.Site = zap.NewNop(), new(counted), "Example"
	return s
}

// theThiefsY settles s, alice's gate (alicesGate), and adds the thief's
// phone Y from her config phone's session: Y records its mark. It
// answers Y's ID.
func theThiefsY(t *testing.T, s *Service) string {
	t.Helper()
	ctx := context.Background()
	if err := settleRealm(ctx, time.Time{}, s); err != nil {
		t.Fatal(err)
	}
	fromPhone := enrollment.AddedFrom(ctx, s.numberMark(s.Users["alice"].Phone))
	y, _, err := s.Devices.AddIn(fromPhone, "r", "alice", "+14155559001", "Y", "en")
	if err != nil {
		t.Fatal(err)
	}
	return y
}

// namesOf is the names of alice's devices in realm r.
func namesOf(t *testing.T, s *Service) []string {
	t.Helper()
	list, err := s.Devices.List(context.Background(), "r", "alice")
	if err != nil {
		t.Fatal(err)
	}
	names := []string{}
	for _, d := range list {
		names = append(names, d.Name)
	}
	return names
}

// TestADeviceAddedOnceTheSettleTookItsMakerAwayIsUndone: the thief's
// phone Y, added from alice's config phone's session, still has a session
// the settle did not end (issued after the config started), and adds an
// app from it just after the settle took Y off her list (review13 L1 (b)):
// Y no longer listed, the app names nothing, so no round of the settle
// finds it. The settle writes Y's end before it takes Y away, so the
// adding's own check of its session (signin.Live) finds it ended and
// undoes the add. Before, the end came after the list's edit: the app
// stayed, and signed the thief in after the number's change.
func TestADeviceAddedOnceTheSettleTookItsMakerAwayIsUndone(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		wrapped := &addsAfter{Store: st}
		s, moved, m, cl, started := thiefsPhone(t, st, wrapped)
		setup, err := s.StartApp(ctx, "r", "alice", "")
		if err != nil {
			t.Fatal(err)
		}
		code, err := totp.GenerateCode(setup.Secret, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		sc := enrollment.Scope{Realm: "r", Host: "example.com", IP: "192.0.2.1", Known: true}
		var added error
		wrapped.add = func() {
			live := func(ctx context.Context) (bool, error) { return m.Live(ctx, cl) }
			added = s.ConfirmApp(enrollment.AddedFrom(ctx, *cl.Device), sc, "alice", code, "Z", live)
		}
		wrapped.armed.Store(true)
		if err := settleRealm(ctx, started, moved); err != nil {
			t.Fatal(err)
		}
		if wrapped.armed.Load() {
			t.Fatal("the app was never added")
		}
		if names := namesOf(t, s); len(names) != 0 || !errors.Is(added, ErrEnded) {
			t.Errorf("her number changed: her devices %q, the adding answered %v; want none (Y the lost number's, the app added from Y's session once Y was gone) and ErrEnded", names, added)
		}
	})
}

// TestASettlesRemovalRefusedAfterItsEndLeavesTheDeviceSignedOut: the
// store fails the settle's removal of the thief's phone Y once its end
// is written (TestADeviceAddedOnceTheSettleTookItsMakerAwayIsUndone): Y
// stays listed, its session is ended, the settle answers the error (its
// retry), and the retry removes Y. No device goes with its sessions
// alive; a device kept is signed out of what it earned.
func TestASettlesRemovalRefusedAfterItsEndLeavesTheDeviceSignedOut(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		wrapped := &addsAfter{Store: st, refuse: true}
		s, moved, m, cl, started := thiefsPhone(t, st, wrapped)
		wrapped.armed.Store(true)
		if err := settleRealm(ctx, started, moved); err == nil {
			t.Fatal("the settle whose removal the store failed answered no error")
		}
		live, err := m.Live(ctx, cl)
		if names := namesOf(t, s); len(names) != 1 || live || err != nil {
			t.Errorf("the removal refused: her devices %q, Y's session live %v (%v); want Y, ended", names, live, err)
		}
		if err := settleRealm(ctx, started, moved); err != nil {
			t.Fatal(err)
		}
		if names := namesOf(t, s); len(names) != 0 {
			t.Errorf("the retry: her devices %q; want none", names)
		}
	})
}
