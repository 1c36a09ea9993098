package signin

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestAnUndoneAddSparesHerPreviousReleasesTrust (review18 L1): alice holds
// a trusted browser of the previous release (no device named) and a
// session of her phone P. A session whose adding of an app is undone (it
// ended meanwhile) ends what the app earned, and none of those: before,
// the undo wrote the app's end as the admin's removal does, which ends
// every session and trust of the previous release issued until then, so
// it signed her out of them, told to nobody, though the app earned none.
func TestAnUndoneAddSparesHerPreviousReleasesTrust(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		s := alicesGate(st, alicesPhone)
		sealer, err := session.NewSealer(session.Derive([]byte("0123456789abcdef0123456789abcdef"), "apps"))
		if err != nil {
			t.Fatal(err)
		}
		s.Devices.Secrets, s.Devices.Limits = sealer, enrollment.DefaultLimits
		p, _, err := s.Devices.AddIn(ctx, "r", "alice", "+14155559001", "P", "en")
		if err != nil {
			t.Fatal(err)
		}
		m, err := session.NewManager(ctx, session.Config{Store: st, Realm: "r", Lifetime: time.Hour, Now: time.Now})
		if err != nil {
			t.Fatal(err)
		}
		mine, _, err := m.IssueBegun(ctx, m.Begin(), "alice", []factor.AMR{factor.AMRSMS}, session.Where{Device: &p})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := m.TrustHeld(ctx, session.Began{}, "alice", "", "", time.Time{}, session.Where{Browser: "her laptop"}, p, []factor.AMR{factor.AMRSMS}, time.Now().Unix(), 24*time.Hour); err != nil {
			t.Fatal(err)
		}
		list, err := m.TrustedBrowsers(ctx, "alice")
		if err != nil || len(list) != 1 {
			t.Fatalf("trusts %v %v", list, err)
		}
		list[0].Device = nil // the previous release's trust: no device
		raw, _ := json.Marshal(list)
		if err := st.Put(ctx, store.Key("trusted", "r", "alice"), raw, time.Hour); err != nil {
			t.Fatal(err)
		}
		time.Sleep(1100 * time.Millisecond) // the undo's end comes a second later
		sc := enrollment.Scope{Realm: "r", Host: "example.com", IP: "192.0.2.1", Known: true}
		add := adding(t, s, "app", sc)
		if err := add(ctx, func(context.Context) (bool, error) { return false, nil }); err == nil {
			t.Fatal("an adding whose session ended was kept")
		}
		if m.Check(ctx, mine) == nil {
			t.Error("her phone's session ended by the undo")
		}
		if list, _ := m.TrustedBrowsers(ctx, "alice"); len(list) != 1 {
			t.Errorf("her previous release's trust ended by the undo: trusts left %d", len(list))
		}
	})
}

// failsDeviceEnds fails every write of alice's devices' ends while failing.
type failsDeviceEnds struct {
	store.Store
	failing *atomic.Bool
}

func (f failsDeviceEnds) Update(ctx context.Context, key string, change func([]byte, bool) ([]byte, time.Duration, error)) error {
	if f.failing.Load() && strings.HasPrefix(key, endkeys.Device("r", "alice", "")) {
		return errors.New("store down")
	}
	return f.Store.Update(ctx, key, change)
}

// TestAnUnfinishedUndoIsLoggedSoItCanBeFinished (review18 L2): an undone
// app whose removal the store wrote but whose end it failed is logged,
// and not asked again; what it earned (here a session another browser
// signed in with it) stays until the admin removes it again by its ID,
// which finds its tombstone and ends it. The log names her and the
// device (before: only the error, so nobody could tell which to remove).
func TestAnUnfinishedUndoIsLoggedSoItCanBeFinished(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		failing := new(atomic.Bool)
		failing.Store(true)
		s := alicesGate(failsDeviceEnds{st, failing}, alicesPhone)
		core, logs := observer.New(zap.InfoLevel)
		s.Logger = zap.New(core)
		sealer, err := session.NewSealer(session.Derive([]byte("0123456789abcdef0123456789abcdef"), "apps"))
		if err != nil {
			t.Fatal(err)
		}
		s.Devices.Secrets, s.Devices.Limits = sealer, enrollment.DefaultLimits
		if _, _, err := s.Devices.AddIn(ctx, "r", "alice", "+14155559001", "P", "en"); err != nil {
			t.Fatal(err)
		}
		sc := enrollment.Scope{Realm: "r", Host: "example.com", IP: "192.0.2.1", Known: true}
		add := adding(t, s, "app", sc)
		if err := add(ctx, func(context.Context) (bool, error) { return false, nil }); err == nil {
			t.Fatal("an adding whose session ended was kept")
		}
		list, _ := s.Devices.List(ctx, "r", "alice")
		if len(list) != 1 {
			t.Fatalf("the undone app still listed: %d devices", len(list))
		}
		found := logs.FilterMessage("undoing a change made for a session that ended").All()
		if len(found) != 1 {
			t.Fatalf("%d undo errors logged", len(found))
		}
		fields := found[0].ContextMap()
		app, _ := fields["device"].(string)
		if fields["user"] != "alice" || app == "" || app == list[0].ID || strings.Contains(app, "+") {
			t.Fatalf("the unfinished undo's log names user %v, device %q: want alice and the app's ID", fields["user"], app)
		}
		// The app's session, signed in during the undo: its end unwritten.
		m, err := session.NewManager(ctx, session.Config{Store: st, Realm: "r", Lifetime: time.Hour, Now: time.Now})
		if err != nil {
			t.Fatal(err)
		}
		thiefs, _, err := m.IssueBegun(ctx, m.Begin(), "alice", []factor.AMR{factor.AMRSoftware}, session.Where{Device: &app})
		if err != nil {
			t.Fatal(err)
		}
		if m.Check(ctx, thiefs) == nil {
			t.Fatal("the app's session ended with no end written")
		}
		failing.Store(false)
		if _, err := RemoveDevice(ctx, s.Devices, "r", "alice", app); err != nil {
			t.Fatalf("the admin's removal of the logged device: %v", err)
		}
		fresh, err := session.NewManager(ctx, session.Config{Store: st, Realm: "r", Lifetime: time.Hour, Now: time.Now})
		if err != nil {
			t.Fatal(err)
		}
		if fresh.Check(ctx, thiefs) != nil { // a gate that had not cached it (m's cache goes at its poll of the log)
			t.Error("the app's session outlived the admin's removal of the logged device")
		}
	})
}
