package signin

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// endGate fails (failFirst) or holds (holdFirst) the first Update of a
// device's end key.
type endGate struct {
	store.Store
	failFirst, holdFirst atomic.Bool
	in, release          chan struct{}
}

func (g *endGate) Update(ctx context.Context, key string, f func([]byte, bool) ([]byte, time.Duration, error)) error {
	if len(key) > len(endkeys.DevicePrefix) && key[:len(endkeys.DevicePrefix)] == endkeys.DevicePrefix {
		if g.failFirst.CompareAndSwap(true, false) {
			return errors.New("store down")
		}
		if g.holdFirst.CompareAndSwap(true, false) {
			close(g.in)
			<-g.release
		}
	}
	return g.Store.Update(ctx, key, f)
}

// thiefsYOnAlicesGate is alice's gate on st (alicesGate, her config
// phone X), her last device removable, with the thief's phone Y added
// from X's session (theThiefsY). It answers the gate and Y's ID.
func thiefsYOnAlicesGate(t *testing.T, st store.Store) (*Service, string) {
	t.Helper()
	s := alicesGate(st, alicesPhone)
	s.AllowRemoveLast = true
	return s, theThiefsY(t, s)
}

// recoverySession is a recovery code's session of alice naming y (the
// set a session y earned made), which y's removal from it keeps: its
// manager, its token and its claims.
func recoverySession(t *testing.T, st store.Store, y string) (*session.Manager, string, *session.Claims) {
	t.Helper()
	ctx := context.Background()
	m, err := session.NewManager(ctx, session.Config{Store: st, Realm: "r", Lifetime: time.Hour, Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := m.IssueBegun(ctx, m.Begin(), "alice", []factor.AMR{factor.AMRRecovery}, session.Where{Device: &y})
	if err != nil {
		t.Fatal(err)
	}
	kept, err := m.Verify(token)
	if err != nil {
		t.Fatal(err)
	}
	return m, token, kept
}

// TestAKeptSessionsMarkOutlivesARemovalAskedAgain: the thief's phone Y
// (added from alice's config phone X's session) is removed from the
// recovery session it keeps; the store fails the end, and the removal is
// asked again (the path removeDevice documents): it finds Y gone, and
// writes in the end the mark Y recorded as Y's owed notice keeps it
// (enrollment.Devices.RemovedMark), so Z, added from that session, goes
// with X's number. Before (review17 A), the end asked again had no mark:
// Z named nothing and stayed once the admin gave her another number. On
// Badger and Redis.
func TestAKeptSessionsMarkOutlivesARemovalAskedAgain(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, backing store.Store) {
		ctx := context.Background()
		st := &endGate{Store: backing}
		s, y := thiefsYOnAlicesGate(t, st)
		_, _, kept := recoverySession(t, st, y)
		st.failFirst.Store(true)
		if _, err := s.RemovePhone(ctx, "r", "alice", y, kept); err == nil {
			t.Fatal("want the first removal's end to fail")
		}
		if _, err := s.RemovePhone(ctx, "r", "alice", y, kept); err != nil { // asked again
			t.Fatal(err)
		}
		keptMarkCheck(t, s, kept)
	})
}

// TestTwoRemovalsAtOnceKeepTheKeptSessionsMark: two removals of Y at
// once from the session they keep (a double click), the one that took Y
// away held before its end's write while the other, finding Y gone,
// writes the end first: it reads Y's mark from the owed notice, and the
// later end fills in a mark the first lacked (session's againAt). Before
// (review17 B), the first end's empty mark stood: Z named nothing and
// stayed. On Badger and Redis.
func TestTwoRemovalsAtOnceKeepTheKeptSessionsMark(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, backing store.Store) {
		ctx := context.Background()
		st := &endGate{Store: backing, in: make(chan struct{}), release: make(chan struct{})}
		s, y := thiefsYOnAlicesGate(t, st)
		_, _, kept := recoverySession(t, st, y)
		st.holdFirst.Store(true)
		var wg sync.WaitGroup
		wg.Go(func() { _, _ = s.RemovePhone(ctx, "r", "alice", y, kept) }) // took Y; held at its end
		<-st.in
		if _, err := s.RemovePhone(ctx, "r", "alice", y, kept); err != nil { // finds Y gone
			t.Fatal(err)
		}
		close(st.release)
		wg.Wait()
		keptMarkCheck(t, s, kept)
	})
}

// keptMarkCheck: kept, Y's removal kept, adds Z with X's mark (AddingFrom),
// and the settle of X's number taken away (her new number given) removes
// Z: no device of hers is left.
func keptMarkCheck(t *testing.T, s *Service, kept *session.Claims) {
	t.Helper()
	ctx := context.Background()
	if ok, mark, err := session.KeptMark(ctx, s.Devices.Store, "r", kept); err != nil || !ok || mark != s.numberMark(alicesPhone) {
		t.Errorf("kept %v mark %q (%v); want kept with X's mark", ok, mark, err)
	}
	z, added, err := s.Devices.AddIn(s.AddingFrom(ctx, "r", kept), "r", "alice", "+14155559002", "Z", "en")
	if err != nil || !added {
		t.Fatalf("Z: added %v (%v)", added, err)
	}
	_ = z
	if err := settleRealm(ctx, time.Time{}, alicesGate(s.Devices.Store, herNewPhone)); err != nil {
		t.Fatal(err)
	}
	if names := namesOf(t, s); len(names) != 0 {
		t.Errorf("her number changed: devices %q remain; want none (Z from the kept session)", names)
	}
}

// TestAKeptSessionSignedInAfterTheStartEndsAtTheSettle: the recovery
// session kept at Y's removal (Y added from X's session) was signed in
// after the new config started, before its settle ran (settleAt): the
// settle of X's number ends it all the same (session.EndKeptOfLost), and
// it adds nothing since (its device gone, it names Y: refused). Before
// (review17 L), EndUser ended only what was issued before the start and
// the settle's removals work from her list, where Y is gone: the session
// still counted, and W, added from it with X's lost mark, stayed through
// the next settle. On Badger and Redis.
func TestAKeptSessionSignedInAfterTheStartEndsAtTheSettle(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		s, y := thiefsYOnAlicesGate(t, st)
		started := time.Now().Add(-time.Second) // the new config's start, before his sign-in
		m, token, kept := recoverySession(t, st, y)
		if _, err := s.RemovePhone(ctx, "r", "alice", y, kept); err != nil {
			t.Fatal(err)
		}
		moved := alicesGate(st, herNewPhone)
		if err := settleRealm(ctx, started, moved); err != nil {
			t.Fatal(err)
		}
		time.Sleep(1100 * time.Millisecond) // a poll
		if m.Check(ctx, token) != nil {
			t.Errorf("the kept session still counts after the settle of X's number")
		}
		w, added, err := s.Devices.AddIn(moved.AddingFrom(ctx, "r", kept), "r", "alice", "+14155559003", "W", "en")
		if err == nil && added {
			d, _ := s.Devices.Find(ctx, "r", "alice", w)
			t.Errorf("W added from the kept session after the settle: %+v", d)
		}
		if err := settleRealm(ctx, time.Now(), moved); err != nil {
			t.Fatal(err)
		}
		if names := namesOf(t, s); len(names) != 0 {
			t.Errorf("after the next settle: devices %q remain", names)
		}
	})
}
