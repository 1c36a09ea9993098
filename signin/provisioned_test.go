package signin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/providers"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// settleRealm settles realm "r" of gates with their union (NumbersOf), as
// admin.App hands it to SettleProvisioned.
func settleRealm(ctx context.Context, at time.Time, gates ...*Service) error {
	return SettleProvisioned(ctx, "r", at, gates, NumbersOf(gates))
}

// TestAProvisionedRecordOfTheReleaseBeforeIsRead: a store holding the
// record attack6's build wrote (one number: "<key's hash> <number's
// hash>") is read as a set of one. The same number ends nothing and
// leaves the record as it was; a second gate giving carol another number
// adds it and ends nothing; a config no longer giving the first ends her
// sessions.
func TestAProvisionedRecordOfTheReleaseBeforeIsRead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.Badger(t)
	s := newServiceOn(st, nil)
	s.Logger = zap.NewNop()
	old := s.Devices.NumberID(keyCheck) + " " + s.Devices.NumberID("+14155552671")
	if err := st.Put(ctx, provisionedKey("r", "carol"), []byte(old), 0); err != nil {
		t.Fatal(err)
	}
	revoked := func() bool {
		t.Helper()
		at, err := session.RevokedBefore(ctx, st, "r", "carol")
		if err != nil {
			t.Fatal(err)
		}
		return !at.IsZero()
	}
	if err := settleRealm(ctx, time.Time{}, s); err != nil || revoked() {
		t.Fatalf("the same number as the old record's: %v, revoked %v", err, revoked())
	}
	if v, _ := st.Get(ctx, provisionedKey("r", "carol")); string(v) != old {
		t.Fatalf("the old record rewritten for the same number: %q", v)
	}
	other := newServiceOn(st, nil)
	other.Users = map[string]User{"carol": {Name: "carol", Phone: "+447400123456"}}
	if err := settleRealm(ctx, time.Time{}, s, other); err != nil || revoked() {
		t.Fatalf("a number added: %v, revoked %v", err, revoked())
	}
	if err := settleRealm(ctx, time.Time{}, other); err != nil || !revoked() {
		t.Fatalf("the old record's number taken away: %v, revoked %v", err, revoked())
	}
}

// failingPuts is a store whose writes of records fail, counted.
type failingPuts struct {
	store.Store
	puts atomic.Int32
}

func (f *failingPuts) Put(context.Context, string, []byte, time.Duration) error {
	f.puts.Add(1)
	return errors.New("store down")
}

func (f *failingPuts) Update(context.Context, string, func([]byte, bool) ([]byte, time.Duration, error)) error {
	f.puts.Add(1)
	return errors.New("store down")
}

// TestASettleStopsAtTheStoresFirstError: a store that fails once the
// records are read (a Redis hung mid-start) fails the first user's write;
// the settle stops there, as the retry settles every user again. Before,
// it went on through every provisioned user, each write waiting on the
// failing store in turn while Caddy's start waited for all of them.
func TestASettleStopsAtTheStoresFirstError(t *testing.T) {
	t.Parallel()
	st := &failingPuts{Store: storetest.Badger(t)}
	s := newServiceOn(st, nil)
	s.Logger = zap.NewNop()
	for i := range 5 {
		name := fmt.Sprint("user", i)
		s.Users[name] = User{Name: name, Phone: fmt.Sprintf("+1415555267%d", i)}
	}
	if err := settleRealm(context.Background(), time.Time{}, s); err == nil {
		t.Fatal("a settle whose writes failed answered no error")
	}
	if n := st.puts.Load(); n != 1 {
		t.Fatalf("%d writes tried on a failing store; want 1 (the first error stops the settle)", n)
	}
}

// TestADeletedLineWithdrawsTheCodesItsPhoneMade: a `user` line deleted
// ends what the config's phone earned, as another number does: the
// recovery codes a session it earned made too (before, only a changed
// number withdrew them), and a set she made otherwise stays.
func TestADeletedLineWithdrawsTheCodesItsPhoneMade(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	live := func(context.Context) (bool, error) { return true, nil }
	for _, tc := range []struct {
		maker   string
		usable  bool
		subject string
	}{
		{maker: "phone", usable: false, subject: "a set the deleted line's phone made"},
		{maker: "", usable: true, subject: "a set a recovery code's session made"},
	} {
		st := storetest.Badger(t)
		s := newServiceOn(st, nil)
		s.Logger, s.Notices, s.Site = zap.NewNop(), new(counted), "Example"
		if err := settleRealm(ctx, time.Time{}, s); err != nil {
			t.Fatal(err)
		}
		maker := tc.maker
		if maker == "phone" {
			maker = s.numberMark("+14155552671")
		}
		codes, err := s.RenewRecovery(ctx, "r", "carol", maker, live)
		if err != nil {
			t.Fatal(err)
		}
		gone := newServiceOn(st, nil)
		gone.Users, gone.Phones, gone.Logger = map[string]User{}, map[string]User{}, zap.NewNop()
		if err := settleRealm(ctx, time.Time{}, gone); err != nil {
			t.Fatal(err)
		}
		_, err = s.Devices.UseRecoveryCodeOf(ctx, enrollment.Scope{Realm: "r", IP: "192.0.2.1"}, "f", "carol", codes[0])
		if (err == nil) != tc.usable {
			t.Errorf("%s, her line deleted: a code of it answered %v; usable %v wanted", tc.subject, err, tc.usable)
		}
	}
}

// TestANumberLostAtOneGateWithdrawsASetMadeAtAnother: a session counts
// at every gate of its realm, and a renewal names the renewing gate's
// phone of the user, not the one that earned the session (review11): a
// thief signed in with P1 at gate a renews at gate b, which gives carol
// P2, so the set names P2. The admin drops P1: the set goes all the
// same (any config phone's set goes with a lost number), and she is
// told (before: the thief's code still signed him in, and a withdrawal
// was told to nobody).
func TestANumberLostAtOneGateWithdrawsASetMadeAtAnother(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.Badger(t)
	a, b := newServiceOn(st, nil), newServiceOn(st, nil)
	told := new(counted)
	for _, g := range []*Service{a, b} {
		g.Logger, g.Notices, g.Site = zap.NewNop(), told, "Example"
	}
	p2 := User{Name: "carol", Phone: "+447400123456"}
	b.Users, b.Phones = map[string]User{"carol": p2}, map[string]User{p2.Phone: p2}
	if err := settleRealm(ctx, time.Time{}, a, b); err != nil {
		t.Fatal(err)
	}
	live := func(context.Context) (bool, error) { return true, nil }
	codes, err := b.RenewRecovery(ctx, "r", "carol", b.numberMark(p2.Phone), live)
	if err != nil {
		t.Fatal(err)
	}
	told.take()
	dropped := newServiceOn(st, nil)
	dropped.Users, dropped.Phones, dropped.Logger = map[string]User{}, map[string]User{}, zap.NewNop()
	if err := settleRealm(ctx, time.Time{}, dropped, b); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Devices.UseRecoveryCodeOf(ctx, enrollment.Scope{Realm: "r", IP: "192.0.2.1"}, "f", "carol", codes[0]); err == nil {
		t.Error("P1 dropped: a code of the set renewed at the gate giving P2 still signs in")
	}
	told.mu.Lock()
	sent := told.sent
	told.mu.Unlock()
	if !slices.ContainsFunc(sent, func(m providers.Message) bool { return strings.Contains(m.Body, "previous number") }) {
		t.Errorf("her codes withdrawn at a settle: no phone told of the number (%v)", sent)
	}
}

// TestASettleEndsWhatWasIssuedBeforeTheStart: a settle retried while
// the store failed ends the sessions issued before the config started,
// not those she signed in to since with the number she has now (review11:
// each retry revoked at its own now, signing her out again and again).
func TestASettleEndsWhatWasIssuedBeforeTheStart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.Badger(t)
	s := newServiceOn(st, nil)
	s.Logger, s.Notices, s.Site = zap.NewNop(), new(counted), "Example"
	if err := settleRealm(ctx, time.Time{}, s); err != nil {
		t.Fatal(err)
	}
	moved := newServiceOn(st, nil)
	p2 := User{Name: "carol", Phone: "+447400123456"}
	moved.Users, moved.Phones, moved.Logger = map[string]User{"carol": p2}, map[string]User{p2.Phone: p2}, zap.NewNop()
	started := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := settleRealm(ctx, started, moved); err != nil {
		t.Fatal(err)
	}
	at, err := session.RevokedBefore(ctx, st, "r", "carol")
	if err != nil {
		t.Fatal(err)
	}
	if !at.Equal(started) {
		t.Fatalf("her sessions ended up to %v; want up to the start, %v", at, started)
	}
}
