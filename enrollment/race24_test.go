package enrollment

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// lockedClock is a test clock that goroutines may read while another
// advances it.
type lockedClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *lockedClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *lockedClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// seqCounter logs, in the order they happen, the app codes compared and
// found wrong for one user (each an Incr of the account's count of wrong
// codes): "W"; the test logs each right one, "R", as it is answered.
type seqCounter struct {
	store.Store
	key string
	mu  sync.Mutex
	log []byte
}

func (f *seqCounter) Incr(ctx context.Context, k string, ttl time.Duration) (int64, error) {
	if k == f.key {
		f.mark('W')
	}
	return f.Store.Incr(ctx, k, ttl)
}

func (f *seqCounter) mark(c byte) { f.mu.Lock(); f.log = append(f.log, c); f.mu.Unlock() }

// TestABurstOfWrongCodesWhileTheOwnerSignsInRepeatedly: 100 strangers,
// each from an address of his own, type a wrong app code at once while
// the owner, on their side (a browser not known), signs in with her app
// one code after another. A right code empties the window of MaxFailures
// (887c828); a wrong code whose slot was taken before her right code's
// Delete and compared after it is forgotten with that window. At most
// MaxFailures wrong codes are compared for each row her right codes end,
// and one more row: wrong ≤ MaxFailures × (rights + 1). The figure also
// counts the longest run of wrong codes compared between two right ones in
// the order they were answered (a code in flight across her Delete is
// counted in the run after it, though its slot was in the run before).
func TestABurstOfWrongCodesWhileTheOwnerSignsInRepeatedly(t *testing.T) {
	t.Parallel()
	const strangers, maxFailures, signIns, runs = 100, 3, 4, 5
	onRaceStoresAndCluster(t, func(t *testing.T, st store.Store) {
		figures := map[string]int{}
		longest := 0
		for run := range runs {
			user := fmt.Sprint("burst-", run)
			fc := &seqCounter{Store: st, key: failUserKey(Scope{Realm: realm}, user)}
			s, _, _ := appServiceOn(t, fc)
			clk := &lockedClock{t: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)}
			s.Now = clk.now
			s.Limits.LockAfter = 1000 // the per-address lock: each stranger types one
			s.Limits.MaxFailures = maxFailures
			ctx := context.Background()
			owner := Scope{Realm: realm, Host: host, IP: "192.0.2.10"}
			setup, err := s.Devices.StartApp(ctx, realm, user, "Example", "")
			if err != nil {
				t.Fatal(err)
			}
			confirm, _ := totp.GenerateCodeCustom(setup.Secret, clk.now(), appOpts)
			if _, _, err := s.Devices.ConfirmApp(ctx, owner, user, confirm, ""); err != nil {
				t.Fatal(err)
			}
			var rights atomic.Int64
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range strangers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					sc := Scope{Realm: realm, Host: host, IP: fmt.Sprintf("203.0.113.%d", i+1)}
					<-start
					// "000000" and "999999" cannot both be right: one is wrong.
					code := "000000"
					if i%2 == 1 {
						code = "999999"
					}
					_, err := s.Devices.CheckApp(ctx, sc, user, code)
					if err != nil && !errors.As(err, new(*WrongCodeError)) && !errors.As(err, new(*LockedError)) &&
						!errors.As(err, new(*LimitError)) {
						t.Errorf("a stranger's wrong code: %v", err)
					}
				}()
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				for range signIns {
					clk.advance(appPeriod)
					right, _ := totp.GenerateCodeCustom(setup.Secret, clk.now(), appOpts)
					if right == "000000" || right == "999999" {
						continue
					}
					_, err := s.Devices.CheckApp(ctx, owner, user, right)
					switch {
					case err == nil:
						rights.Add(1)
						fc.mark('R')
					case errors.As(err, new(*LockedError)):
						fc.mark('L')
					default:
						t.Errorf("her right code: %v", err)
					}
				}
			}()
			close(start)
			wg.Wait()
			log := string(fc.log)
			wrong := strings.Count(log, "W")
			run := 0
			for _, gap := range strings.Split(strings.ReplaceAll(log, "L", ""), "R") {
				run = max(run, len(gap))
			}
			longest = max(longest, run)
			figures[fmt.Sprintf("%d right, %d wrong compared", rights.Load(), wrong)]++
			if wrong > maxFailures*int(rights.Load()+1) {
				figures["more wrong than MaxFailures × (rights+1)"]++
				t.Logf("%s: %s", user, log)
			}
		}
		t.Logf("%d runs, %d strangers at once, the owner's %d sign-ins: %v; longest run of wrong codes answered between two right ones: %d",
			runs, strangers, signIns, figures, longest)
		if figures["more wrong than MaxFailures × (rights+1)"] > 0 {
			t.Errorf("more wrong codes compared than MaxFailures per right code (+1): %v", figures)
		}
	})
}

// TestAnImportRacingASignOutEverywhereAndAReset: the admin imports an
// export taken before (alice revoked at t0, her phone and recovery codes)
// while alice signs out everywhere (t1) and another admin resets her (a
// revoke at t2, her devices and recovery codes removed, a revoke again):
// the three at once, raceRuns times, on Badger and Redis. The later
// revocation stays (t2, whoever wrote last: keepLaterRevoked, c7516a6);
// she holds no device and no recovery code, whichever came first: the
// reset's tombstones keep out of an import what it removed, after it or
// between its two removals (its devices, then its codes: ResetUser).
// Before the tombstones an import after the reset brought both back, and
// one between its removals her devices without her codes (Redis, 2 of 50
// runs); TestAnImportRacingAResetLeavesNothing plays every interleaving.
// Then two imports at once, of exports revoked at t0 and at t3 (later
// than all): t3 stays, and one export's device list, whole.
func TestAnImportRacingASignOutEverywhereAndAReset(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	t1, t2, t3 := t0.Add(time.Hour), t0.Add(2*time.Hour), t0.Add(3*time.Hour)
	phone := Device{ID: "a", Name: "A", Phone: num, Enrolled: t0}
	other := Device{ID: "b", Name: "B", Phone: "+14155550100", Enrolled: t0}
	onRaceStoresAndCluster(t, func(t *testing.T, st store.Store) {
		s, _, _ := raceService(t, st)
		admin := &Admin{Core: s.Core, Devices: s.Devices}
		ctx := context.Background()
		exportOf := func(user string, with Device, at time.Time) []Record {
			t.Helper()
			putDevices(t, s.Devices, user, with)
			if _, err := s.Devices.NewRecoveryCodes(ctx, realm, user); err != nil {
				t.Fatal(err)
			}
			if err := session.RevokeUser(ctx, st, realm, user, at, nil); err != nil {
				t.Fatal(err)
			}
			export, err := admin.Export(ctx, realm, false)
			if err != nil {
				t.Fatal(err)
			}
			var records []Record
			for _, r := range export {
				if strings.HasSuffix(r.Key, "/"+user) || strings.Contains(r.Key, "/"+user+"/") {
					records = append(records, r)
				}
			}
			return records
		}
		figures := map[string]int{}
		for i := range raceRuns {
			user := fmt.Sprint("three-", i)
			records := exportOf(user, phone, t0)
			var errs [3]error
			race3(
				func() { _, errs[0] = admin.Import(ctx, records) },
				func() { errs[1] = session.RevokeUser(ctx, st, realm, user, t1, nil) },
				func() {
					if errs[2] = session.RevokeUser(ctx, st, realm, user, t2, nil); errs[2] == nil {
						if errs[2] = s.Devices.ResetUser(ctx, realm, user); errs[2] == nil {
							errs[2] = session.RevokeUser(ctx, st, realm, user, t2, nil)
						}
					}
				})
			if err := errors.Join(errs[:]...); err != nil {
				t.Fatalf("%s: %v", user, err)
			}
			if at, err := session.RevokedBefore(ctx, st, realm, user); err != nil || !at.Equal(t2) {
				figures[fmt.Sprintf("revoked at %v, not t2", at.Sub(t0))]++
			}
			list, err := s.Devices.List(ctx, realm, user)
			if err != nil {
				t.Fatal(err)
			}
			left, err := s.Devices.RecoveryCodesLeft(ctx, realm, user)
			if err != nil {
				t.Fatal(err)
			}
			figures[fmt.Sprintf("%d devices, %d recovery codes", len(list), left)]++
		}
		for i := range raceRuns {
			user := fmt.Sprint("two-", i)
			early, late := exportOf(user, phone, t0), exportOf(user, other, t3)
			if err := session.RevokeUser(ctx, st, realm, user, t1, nil); err != nil { // the store's: neither export's
				t.Fatal(err)
			}
			var errA, errB error
			race(func() { _, errA = admin.Import(ctx, early) }, func() { _, errB = admin.Import(ctx, late) })
			if errA != nil || errB != nil {
				t.Fatalf("%s: %v, %v", user, errA, errB)
			}
			if at, err := session.RevokedBefore(ctx, st, realm, user); err != nil || !at.Equal(t3) {
				figures[fmt.Sprintf("two imports: revoked at %v, not t3", at.Sub(t0))]++
			}
			list, err := s.Devices.List(ctx, realm, user)
			if err != nil || len(list) != 1 {
				figures[fmt.Sprintf("two imports: %d devices (%v)", len(list), err)]++
				continue
			}
			figures["two imports: one export's list, device "+list[0].ID]++
		}
		t.Logf("%d runs of the three at once, %d of two imports: %v", raceRuns, raceRuns, figures)
		for f, n := range figures {
			if strings.Contains(f, "not t") || strings.Contains(f, "two imports: 0") || strings.Contains(f, "two imports: 2") ||
				!strings.HasPrefix(f, "two") && !strings.HasPrefix(f, "0 devices, 0 ") {
				t.Errorf("%d of %d runs: %s", n, raceRuns, f)
			}
		}
	})
}

// race3 runs a, b and c at once, as closely together as goroutines allow.
func race3(fs ...func()) {
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	for _, f := range fs {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			f()
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
}

// onRaceStoresAndCluster is onRaceStores and a Redis Cluster of three
// masters, a user's keys spread over them.
func onRaceStoresAndCluster(t *testing.T, test func(t *testing.T, st store.Store)) {
	onRaceStores(t, test)
	t.Run("cluster", func(t *testing.T) {
		t.Parallel()
		st, closeCluster, err := store.OpenRedis(&store.Redis{Addresses: redistest.StartCluster(t), Cluster: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = closeCluster() })
		test(t, st)
	})
}
