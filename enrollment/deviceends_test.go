package enrollment

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
)

// TestAnExportCarriesTheEndsOfDevices: the end of a removed phone's
// sessions (session.EndDevice), which alone ends one off her list, goes in
// an export with its expiry (session.LongestLifetime past the removal);
// imported into a store that lacks it (a move, a restore),
// it is written and announced: a gate that had checked the phone's session
// since refuses it at once, and one that knows only the store refuses it
// too; another phone's session stays. On Badger and on a real Redis.
func TestAnExportCarriesTheEndsOfDevices(t *testing.T) {
	t.Parallel()
	onRaceStores(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		s, _, _ := raceService(t, st)
		admin := &Admin{Core: s.Core, Devices: s.Devices}
		admin.Announce = session.AnnounceEnd
		gate := func() *session.Manager {
			t.Helper()
			m, err := session.NewManager(ctx, session.Config{Store: st, Realm: realm, Secret: []byte("a secret of thirty-two bytes, no less"), Alg: "HS256", Lifetime: time.Hour, Now: time.Now})
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		issue := func(m *session.Manager, device string) string {
			t.Helper()
			tok, _, err := m.IssueBegun(ctx, session.Began{}, "alice", []factor.AMR{factor.AMRSMS}, session.Where{Device: &device})
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}
		m := gate()
		lost, other := issue(m, "lost"), issue(m, "other")
		// Unlisted (pushed off her list): only the device's end ends it.
		if err := st.Delete(ctx, store.Key("sessions", realm, "alice")); err != nil {
			t.Fatal(err)
		}
		if err := session.EndDevice(ctx, st, realm, "alice", "lost", nil, time.Now()); err != nil {
			t.Fatal(err)
		}
		export, err := admin.Export(ctx, realm, false)
		if err != nil {
			t.Fatal(err)
		}
		key := endkeys.Device(realm, "alice", "lost")
		carried := false
		for _, r := range export {
			if r.Key == key {
				carried = r.Until != nil && r.Until.After(time.Now().Add(session.LongestLifetime-time.Minute))
			}
		}
		if !carried {
			t.Fatalf("the export does not carry the device's end with its expiry: %v", export)
		}
		if err := st.Delete(ctx, key); err != nil { // a store without it
			t.Fatal(err)
		}
		before := gate()
		if before.Check(ctx, lost) == nil {
			t.Fatal("the lost phone's session refused on a store without its end")
		}
		if _, err := admin.Import(ctx, export); err != nil {
			t.Fatal(err)
		}
		if before.Check(ctx, lost) != nil {
			t.Error("a gate that had checked the lost phone's session serves it after the import")
		}
		if after := gate(); after.Check(ctx, lost) != nil || after.Check(ctx, other) == nil {
			t.Error("after the import, the lost phone's session is live, or another phone's ended")
		}
	})
}

// TestAnImportKeepsTheLaterDeviceEnd, on Badger and a real Redis: a
// device removed twice, a session naming it signed between the two (as a
// trust of the previous release the first removal kept signs one), is
// exported; a store holding the first end (a restore: with no expiry, as
// the previous release wrote it, or with one) imports the file. The later
// end wins: that session ends. (Before, the import skipped a held end with
// no expiry, and compared expiries, not the removals: the store's earlier
// end stayed, and the session was live again.)
func TestAnImportKeepsTheLaterDeviceEnd(t *testing.T) {
	t.Parallel()
	onRaceStores(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		s, _, _ := raceService(t, st)
		admin := &Admin{Core: s.Core, Devices: s.Devices}
		admin.Announce = session.AnnounceEnd
		gate := func() *session.Manager {
			m, err := session.NewManager(ctx, session.Config{Store: st, Realm: realm, Secret: []byte("a secret of thirty-two bytes, no less"), Alg: "HS256", Lifetime: time.Hour, Now: time.Now})
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		lost := "lost"
		issue := func() string {
			tok, _, err := gate().IssueBegun(ctx, session.Began{}, alice, []factor.AMR{factor.AMRSMS}, session.Where{Device: &lost})
			if err != nil {
				t.Fatal(err)
			}
			_ = st.Delete(ctx, store.Key("sessions", realm, alice)) // unlisted: only the device's end ends it
			return tok
		}
		first := issue()
		if err := session.EndDevice(ctx, st, realm, alice, lost, nil, time.Now()); err != nil {
			t.Fatal(err)
		}
		key := endkeys.Device(realm, alice, lost)
		older, err := st.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(1100 * time.Millisecond) // iat is whole seconds
		between := issue()
		time.Sleep(1100 * time.Millisecond)
		if err := session.EndDevice(ctx, st, realm, alice, lost, nil, time.Now()); err != nil {
			t.Fatal(err)
		}
		if gate().Check(ctx, first) != nil || gate().Check(ctx, between) != nil { // claims: live
			t.Fatal("the removals did not end the phone's sessions")
		}
		export, err := admin.Export(ctx, realm, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, held := range []time.Duration{0, time.Hour} {
			if err := st.Put(ctx, key, older, held); err != nil {
				t.Fatal(err)
			}
			if gate().Check(ctx, between) == nil {
				t.Fatal("the first end ended the session signed after it")
			}
			if _, err := admin.Import(ctx, export); err != nil {
				t.Fatal(err)
			}
			if gate().Check(ctx, between) != nil {
				got, _ := st.Get(ctx, key)
				t.Errorf("the store's earlier end held with expiry %v: after the import it is %s, and the session signed between the removals is live", held, got)
			}
		}
	})
}

// TestDeviceEndsExpire: each removal of a device writes its end with an
// expiry (session.LongestLifetime and Leeway past the removal), so a
// user's add-and-remove loop no longer leaves one record for good a loop
// (before: 300 loops, 300 records with no expiry, a reset leaving them);
// and an end already over by the clock (an import of an old file) is not
// written at all.
func TestDeviceEndsExpire(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _, clk := appService(t)
	const loops = 20
	for i := range loops {
		setup, err := s.Devices.StartApp(ctx, realm, alice, "Example", "")
		if err != nil {
			t.Fatalf("loop %d: %v", i, err)
		}
		code, _ := totp.GenerateCodeCustom(setup.Secret, clk.now(), appOpts)
		id, added, err := s.Devices.ConfirmApp(ctx, sc, alice, code, "app")
		if err != nil || !added {
			t.Fatalf("loop %d: %v %v", i, added, err)
		}
		if _, err := s.Devices.Remove(ctx, realm, alice, id, true); err != nil {
			t.Fatalf("loop %d: %v", i, err)
		}
		if err := session.EndDevice(ctx, s.Store, realm, alice, id, nil, clk.now()); err != nil {
			t.Fatal(err)
		}
		clk.advance(time.Second)
	}
	n := 0
	e := s.Store.(store.Expiring)
	least, most := clk.now().Add(session.LongestLifetime-time.Duration(loops+5)*time.Second), time.Now().Add(session.LongestLifetime+session.Leeway+time.Minute)
	if err := e.ScanExpiring(ctx, endkeys.DevicePrefix, func(key string, _ []byte, exp time.Time) error {
		n++
		if exp.Before(least) || exp.After(most) {
			t.Errorf("%s expires at %v, not %v past its removal", key, exp, session.LongestLifetime)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != loops {
		t.Errorf("%d device ends, want %d", n, loops)
	}
	// One removed longer ago than any session lasts ends nothing: not written.
	old := []byte(`{"at":"` + time.Now().Add(-session.LongestLifetime-session.Leeway-time.Minute).UTC().Format(time.RFC3339Nano) + `"}`)
	key := endkeys.Device(realm, alice, "gone")
	if wrote, err := session.KeepLaterDeviceEnds(ctx, s.Store, []session.StoredEnd{{Key: key, Value: old}}, time.Now(), nil); err != nil || wrote != 0 {
		t.Errorf("an end over by the clock: written %v, %v", wrote, err)
	}
	if _, err := s.Store.Get(ctx, key); err == nil {
		t.Error("an end over by the clock was written")
	}
}

// TestAnImportKeepsADeviceEndByTheGatesClock: an import writes a device's
// end for what is left of it by the gate's clock, as a removal does: one
// removed at the clock's now is written, whatever the machine's says.
// Before, the import read time.Now() (a removal, the Core's clock): with
// the gate's clock 401 days behind it, the end was taken for over and not
// written. On Badger.
func TestAnImportKeepsADeviceEndByTheGatesClock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _, clk := raceService(t, nil)
	clk.t = time.Now().Add(-401 * 24 * time.Hour)
	admin := &Admin{Core: s.Core, Devices: s.Devices}
	admin.Announce = session.AnnounceEnd
	key := endkeys.Device(realm, alice, "lost")
	end := []byte(`{"at":"` + clk.now().UTC().Format(time.RFC3339Nano) + `"}`)
	if _, err := admin.Import(ctx, []Record{record(key, end)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Store.Get(ctx, key); err != nil {
		t.Fatalf("a device's end removed at the gate's now, imported: %v; want it written", err)
	}
}

// announceFails is a store gone away once the import's ends are written:
// while on, the revocation log's counter (an announcement's first write)
// fails. It reads and keeps expiries as the store it wraps (Badger,
// Redis) does.
type announceFails struct {
	store.Store
	on bool
}

func (s *announceFails) ScanExpiring(ctx context.Context, prefix string, fn func(string, []byte, time.Time) error) error {
	return s.Store.(store.Expiring).ScanExpiring(ctx, prefix, fn)
}

func (s *announceFails) KeepLonger(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	return s.Store.(store.Lengthening).KeepLonger(ctx, key, value, ttl)
}

func (s *announceFails) Incr(ctx context.Context, key string, ttl time.Duration) (int64, error) {
	if s.on && key == session.RevocationCounter {
		return 0, errors.New("the store went away")
	}
	return s.Store.Incr(ctx, key, ttl)
}

// TestADeviceEndWrittenButNotAnnouncedIsAnnouncedWhenRunAgain: an import
// writes the ends of two lost phones, and the store goes away before they
// are announced: the import fails, and a gate that had checked the phones'
// sessions still serves them (nothing told it). The import run again once
// the store is back finds the ends held as the file has them and
// announces them: the gate, which reads the revocation log as another
// process's would, refuses both sessions. On Badger and a real
// Redis. (Before: the run again found them "as late", announced nothing,
// and the gate served the sessions until their cache entries went.)
func TestADeviceEndWrittenButNotAnnouncedIsAnnouncedWhenRunAgain(t *testing.T) {
	t.Parallel()
	onRaceStores(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		gone := &announceFails{Store: st}
		s, _, _ := raceService(t, gone)
		admin := &Admin{Core: s.Core, Devices: s.Devices}
		admin.Announce = session.AnnounceEnd
		m, err := session.NewManager(ctx, session.Config{Store: st, Realm: realm, Secret: []byte("a secret of thirty-two bytes, no less"), Alg: "HS256", Lifetime: time.Hour, Now: time.Now})
		if err != nil {
			t.Fatal(err)
		}
		var toks []string
		var records []Record
		end := []byte(`{"at":"` + time.Now().Add(time.Second).UTC().Format(time.RFC3339Nano) + `"}`)
		for _, device := range []string{"lost1", "lost2"} {
			tok, _, err := m.IssueBegun(ctx, session.Began{}, alice, []factor.AMR{factor.AMRSMS}, session.Where{Device: &device})
			if err != nil {
				t.Fatal(err)
			}
			if m.Check(ctx, tok) == nil {
				t.Fatal("a lost phone's session refused before the import")
			}
			toks, records = append(toks, tok), append(records, record(endkeys.Device(realm, alice, device), end))
		}
		gone.on = true
		if _, err := admin.Import(ctx, records); err == nil {
			t.Fatal("an import whose announcements failed answered no error")
		}
		gone.on = false
		time.Sleep(session.RevocationPoll + 100*time.Millisecond) // the gate (another process's) reads the log
		for i, tok := range toks {
			if _, err := st.Get(ctx, records[i].Key); err != nil || m.Check(ctx, tok) == nil {
				t.Fatalf("the failed import: end %d written: %v; the gate refuses its session already", i+1, err)
			}
		}
		if _, err := admin.Import(ctx, records); err != nil {
			t.Fatal(err)
		}
		for i, tok := range toks {
			// At its next poll of the log (a loaded machine's may take a few).
			deadline := time.Now().Add(10 * time.Second)
			for m.Check(ctx, tok) != nil && time.Now().Before(deadline) {
				time.Sleep(100 * time.Millisecond)
			}
			if m.Check(ctx, tok) != nil {
				t.Errorf("the import run again: the gate still serves lost phone %d's session (its end never announced)", i+1)
			}
		}
	})
}
