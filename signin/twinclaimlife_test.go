package signin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/internal/clock"
	"github.com/smsgate/caddy-smsgate/store"
)

// heldAtWrite runs complete with a stepper, lets it take its fresh scan
// and its name's claim, and holds it at its device's write; release lets
// it finish and answers what it returned.
func heldAtWrite(t *testing.T, complete func(context.Context) error) (release func() error) {
	t.Helper()
	st := &stepper{arrived: make(chan struct{}), proceed: make(chan struct{}), done: make(chan struct{})}
	var err error
	go func() {
		defer close(st.done)
		err = complete(context.WithValue(context.Background(), stepperKey{}, st))
	}()
	for step := range 3 { // the scan, the claim, the device's write: held at the third
		select {
		case <-st.arrived:
		case <-st.done:
			t.Fatalf("the completion returned at its step %d: %v", step, err)
		}
		if step < 2 {
			st.proceed <- struct{}{}
		}
	}
	return func() error {
		st.proceed <- struct{}{}
		<-st.done
		return err
	}
}

// twinsEnrolled is how many of names hold a device in realm.
func twinsEnrolled(t *testing.T, s *Service, realm string, names ...string) int {
	t.Helper()
	n := 0
	for _, name := range names {
		list, err := s.Devices.List(context.Background(), realm, name)
		if err != nil {
			t.Fatal(err)
		}
		n += len(list)
	}
	return n
}

// TestAGateAheadTakesNoLiveTwinClaim: two gates on one store, B's clock
// ahead of A's (by more than the grace, and by a day). alice completes at
// A and is held after her name's claim, just before her device is
// written; ALICE completes at B meanwhile: refused by the claim
// (ErrTwinClaimed), and only alice enrolls. On Badger and a real Redis.
// Before, a claim's age was read by each gate's clock: B, ten minutes
// ahead, took alice's live claim over (her device not yet written) and
// both twins enrolled (review26's F1).
func TestAGateAheadTakesNoLiveTwinClaim(t *testing.T) {
	t.Parallel()
	for kind, st := range raceStores(t) {
		for _, skew := range []time.Duration{0, twinGraceLength + time.Second, 10*time.Minute + time.Second, 24 * time.Hour} {
			t.Run(fmt.Sprint(kind, "/", skew), func(t *testing.T) {
				a, outA, _ := twinSite(t, st)
				b, outB, clockB := twinSite(t, st)
				clockB.Add(int64(skew))
				realm := fmt.Sprint("skew", skew)
				sc := enrollment.Scope{Realm: realm, Host: realm, IP: "192.0.2.1"}
				alice := begun(t, a, outA, sc, "alice", "+14155550101")
				ALICE := begun(t, b, outB, sc, "ALICE", "+14155550199")
				release := heldAtWrite(t, alice)
				errB := ALICE(context.Background())
				if errA := release(); errA != nil {
					t.Fatalf("alice at A: %v", errA)
				}
				if !errors.Is(errB, ErrTwinClaimed) {
					t.Errorf("ALICE at B, %v ahead: %v, want ErrTwinClaimed", skew, errB)
				}
				if n := twinsEnrolled(t, a, realm, "alice", "ALICE"); n != 1 {
					t.Errorf("B %v ahead: %d twins enrolled, want 1", skew, n)
				}
			})
		}
	}
}

// shortGrace makes the claims' grace d long until t ends. Not for a
// parallel test: every claim of the package lives that long meanwhile.
func shortGrace(t *testing.T, d time.Duration) {
	t.Helper()
	restore, err := clock.Shorten("twin-grace", d)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(restore)
}

// gone waits until the claim of folded in realm has left st (its expiry
// passed, by the store's clock), at most within. Whether it went.
func gone(st store.Store, realm, folded string, within time.Duration) bool {
	for end := time.Now().Add(within); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if _, err := st.Get(context.Background(), twinClaimKey(realm, folded)); errors.Is(err, store.ErrNotFound) {
			return true
		}
	}
	return false
}

// TestATwinClaimExpiresByTheStoresClock: gate B, its clock a day ahead,
// enrolls alice (her name claimed) and the admin resets her (she left).
// At gate A (the right clock) ALICE is refused where he begins while the
// claim lives, no text sent (ErrTwinClaimed: "try again in a few
// minutes"), and alice's own enrollment asserts it again (hers). Reset
// again, the claim leaves the store by its expiry (the grace, by the
// store's clock, shortened here), and then ALICE enrolls, the claim his,
// holding no number. On Badger and a real Redis. Before, the claim had
// no expiry: alice's name was kept for ever after her reset (review26's
// F4), and a claim dated by a gate a day ahead refused ALICE for a day
// (F1).
func TestATwinClaimExpiresByTheStoresClock(t *testing.T) {
	shortGrace(t, 2*time.Second) // Badger's expiry counts whole seconds
	for kind, st := range raceStores(t) {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			a, outA, _ := twinSite(t, st)
			b, outB, clockB := twinSite(t, st)
			clockB.Add(int64(24 * time.Hour))
			sc := enrollment.Scope{Realm: "r", Host: "r", IP: "192.0.2.1"}
			if err := begun(t, b, outB, sc, "alice", "+14155550101")(ctx); err != nil {
				t.Fatal(err)
			}
			reset := func() {
				if err := a.Devices.ResetUser(ctx, "r", "alice"); err != nil {
					t.Fatal(err)
				}
			}
			reset()
			outA.code = ""
			if _, err := a.Enroll(ctx, sc, &Flow{ID: "ALICE"}, "ALICE", "+14155550199", ""); !errors.Is(err, ErrTwinClaimed) {
				t.Fatalf("ALICE right after alice's reset: %v, want ErrTwinClaimed", err)
			}
			if outA.code != "" {
				t.Fatal("ALICE, refused, was sent a text")
			}
			if err := begun(t, a, outA, sc, "alice", "+14155550102")(ctx); err != nil {
				t.Fatalf("alice again, her own claim: %v", err)
			}
			reset()
			if !gone(st, "r", "alice", 5*time.Second) {
				raw, _ := st.Get(ctx, twinClaimKey("r", "alice"))
				t.Fatalf("alice's claim is kept after her reset past its grace: %s", raw)
			}
			if err := begun(t, a, outA, sc, "ALICE", "+14155550199")(ctx); err != nil {
				t.Fatalf("ALICE once alice's claim expired: %v", err)
			}
			raw, err := st.Get(ctx, twinClaimKey("r", "alice"))
			if err != nil || !strings.Contains(string(raw), `"user":"ALICE"`) || strings.Contains(string(raw), "+1415") {
				t.Fatalf("the claim: %s %v", raw, err)
			}
		})
	}
}

// TestALiveTwinClaimRefusesBeforeAText: alice completes her first
// enrollment and is held after her name's claim; ALICE begins his (the
// enroll step): refused there by her live claim (ErrTwinClaimed, its own
// words: no "already has a phone", which alice does not hold yet), no
// text sent, audited as a case twin's refusal (enrollment_refused_case,
// his name and the realm). On Badger and a real Redis. Before, the
// beginning read no claim: ALICE was sent a text, typed its code, and
// was then refused with the words "an account that already has a phone"
// (review26's F2).
func TestALiveTwinClaimRefusesBeforeAText(t *testing.T) {
	t.Parallel()
	for kind, st := range raceStores(t) {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			s, out, _ := twinSite(t, st)
			var mu sync.Mutex
			var lines []string
			s.Audit = func(event, user, _ string, fields ...zap.Field) {
				mu.Lock()
				defer mu.Unlock()
				line := event + " " + user
				for _, f := range fields {
					line += " " + f.Key + "=" + f.String
				}
				lines = append(lines, line)
			}
			sc := enrollment.Scope{Realm: "r", Host: "r", IP: "192.0.2.1"}
			release := heldAtWrite(t, begun(t, s, out, sc, "alice", "+14155550101"))
			out.mu.Lock()
			out.code = ""
			out.mu.Unlock()
			_, err := s.Enroll(ctx, sc, &Flow{ID: "ALICE"}, "ALICE", "+14155550199", "")
			if !errors.Is(err, ErrTwinClaimed) || errors.Is(err, ErrCaseTwin) {
				t.Errorf("ALICE begins while alice's claim lives: %v, want ErrTwinClaimed", err)
			}
			if err != nil && strings.Contains(err.Error(), "already has a phone") {
				t.Errorf("the refusal says %q", err)
			}
			out.mu.Lock()
			sent := out.code
			out.mu.Unlock()
			if sent != "" {
				t.Error("ALICE was sent a text")
			}
			if err := release(); err != nil {
				t.Fatalf("alice: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if !containsLine(lines, "enrollment_refused_case ALICE realm=r") {
				t.Errorf("audit: %q, want ALICE's refusal with the realm", lines)
			}
		})
	}
}

func containsLine(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}
