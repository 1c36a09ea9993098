package signin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/store"
)

// stepper holds one completion at each of its steps (stepStore), until
// its scheduler lets it take the next one.
type stepper struct {
	arrived chan struct{} // it is held at a step
	proceed chan struct{} // it may take that step
	done    chan struct{} // it returned
}

type stepperKey struct{}

// stepStore holds the completion whose context carries a stepper before
// each of its steps: the fresh scan of the realm's device records, the
// claim of its name (an Update of twin/), its device's write.
type stepStore struct{ store.Store }

func (s stepStore) step(ctx context.Context) {
	if st, ok := ctx.Value(stepperKey{}).(*stepper); ok {
		st.arrived <- struct{}{}
		<-st.proceed
	}
}

func (s stepStore) Scan(ctx context.Context, prefix string, fn func(string, []byte) error) error {
	if strings.HasPrefix(prefix, "device/") {
		s.step(ctx)
	}
	return s.Store.Scan(ctx, prefix, fn)
}

func (s stepStore) Update(ctx context.Context, key string, change func([]byte, bool) ([]byte, time.Duration, error)) error {
	if strings.HasPrefix(key, "twin/") {
		s.step(ctx)
	}
	return s.Store.Update(ctx, key, change)
}

func (s stepStore) PutIfAbsent(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	if strings.HasPrefix(key, "device/") {
		s.step(ctx)
	}
	return s.Store.PutIfAbsent(ctx, key, value, ttl)
}

// twinSite is a gate with enrollment open on st (held by stepStore), its
// codes kept (out), its clock the test's (clock: s.Now; codes and claims
// live by the real clock, the store's).
func twinSite(t *testing.T, st store.Store) (s *Service, out *lastCode, clock *atomic.Int64) {
	t.Helper()
	tpl, err := enrollment.ParseTemplates("", "")
	if err != nil {
		t.Fatal(err)
	}
	out, clock = &lastCode{}, &atomic.Int64{}
	clock.Store(time.Now().UnixNano())
	ch, dev, adm := enrollment.New(&enrollment.Core{Store: stepStore{st}, CodeKey: []byte("0123456789abcdef0123456789abcdef"), Now: time.Now},
		enrollment.Challenges{Sender: out, CodeLength: 6, CodeTTL: 5 * time.Minute, MaxAttempts: 5, Templates: tpl})
	return &Service{Identity: FirstFactor{Open: true}, Challenges: ch, Devices: dev, Invites: adm, Channels: []factor.Channel{"sms"},
		CodeLength: 6, Now: func() time.Time { return time.Unix(0, clock.Load()) }, Logger: zap.NewNop()}, out, clock
}

// begun is user's first enrollment of phone begun at s (a code sent),
// and its completion, to run.
func begun(t *testing.T, s *Service, out *lastCode, sc enrollment.Scope, user, phone string) func(ctx context.Context) error {
	t.Helper()
	f := &Flow{ID: user + phone}
	c, err := s.Enroll(context.Background(), sc, f, user, phone, "")
	if err != nil {
		t.Fatalf("%s begins: %v", user, err)
	}
	out.mu.Lock()
	code := out.code
	out.mu.Unlock()
	return func(ctx context.Context) error {
		_, err := s.Check(ctx, sc, f, user, c, code, nil)
		return err
	}
}

// interleavings is every order of a's and b's steps, n each.
func interleavings(a, b int) []string {
	if a == 0 || b == 0 {
		return []string{strings.Repeat("a", a) + strings.Repeat("b", b)}
	}
	var out []string
	for _, rest := range interleavings(a-1, b) {
		out = append(out, "a"+rest)
	}
	for _, rest := range interleavings(a, b-1) {
		out = append(out, "b"+rest)
	}
	return out
}

// inOrder runs the two completions at once, each held before each of its
// steps (stepStore), lets them take their steps in order ('a' the
// first's, 'b' the second's; a step of one returned already is none),
// then each to its end, and returns what they returned.
func inOrder(order string, completions [2]func(context.Context) error) (errs [2]error) {
	var steppers [2]*stepper
	for j := range steppers {
		st := &stepper{arrived: make(chan struct{}), proceed: make(chan struct{}), done: make(chan struct{})}
		steppers[j] = st
		go func() {
			defer close(st.done)
			errs[j] = completions[j](context.WithValue(context.Background(), stepperKey{}, st))
		}()
	}
	held := [2]bool{}
	wait := func(j int) { // until j is held at its next step, or returned
		select {
		case <-steppers[j].arrived:
			held[j] = true
		case <-steppers[j].done:
			held[j] = false
		}
	}
	wait(0)
	wait(1)
	for _, who := range order {
		if j := int(who - 'a'); held[j] {
			steppers[j].proceed <- struct{}{}
			wait(j)
		}
	}
	for j := range steppers { // to its end (none left with the fix)
		for held[j] {
			steppers[j].proceed <- struct{}{}
			wait(j)
		}
	}
	return errs
}

// TestTwinsCompletingAtOnceEnrollOne: alice and ALICE (twins under
// twinKey, neither enrolled) both begin their first enrollments (codes
// sent: the snapshot holds neither), then complete them with the steps
// of each — the fresh scan, the name's claim, the device's write — taken
// in every order: exactly one of them enrolls, the other is refused
// (ErrCaseTwin by the scan, ErrTwinClaimed by the claim) and holds no
// device. On Badger and a real Redis. Before, the
// scan and the write were two steps: alice's scan, ALICE's scan, then
// both writes enrolled both (review23's F5).
func TestTwinsCompletingAtOnceEnrollOne(t *testing.T) {
	t.Parallel()
	for kind, st := range raceStores(t) {
		t.Run(kind, func(t *testing.T) {
			s, out, _ := twinSite(t, st)
			for i, order := range interleavings(3, 3) {
				realm := fmt.Sprint("r", i)
				sc := enrollment.Scope{Realm: realm, Host: realm, IP: "192.0.2.1"}
				names := [2]string{"alice", "ALICE"}
				completions := [2]func(context.Context) error{
					begun(t, s, out, sc, names[0], "+14155550101"), begun(t, s, out, sc, names[1], "+14155550199"),
				}
				errs := inOrder(order, completions)
				enrolled := 0
				for j, name := range names {
					list, err := s.Devices.List(context.Background(), realm, name)
					if err != nil {
						t.Fatal(err)
					}
					switch {
					case errs[j] == nil && len(list) == 1:
						enrolled++
					case (errors.Is(errs[j], ErrCaseTwin) || errors.Is(errs[j], ErrTwinClaimed)) && len(list) == 0:
					default:
						t.Errorf("%s: %s: %v, %d devices", order, name, errs[j], len(list))
					}
				}
				if enrolled != 1 {
					t.Errorf("%s: %d of the twins enrolled (%v), want one", order, enrolled, errs)
				}
			}
		})
	}
}

// failingClaims is a store whose claims of names fail.
type failingClaims struct{ store.Store }

func (f failingClaims) Update(ctx context.Context, key string, change func([]byte, bool) ([]byte, time.Duration, error)) error {
	if strings.HasPrefix(key, "twin/") {
		return errors.New("test: the store went away")
	}
	return f.Store.Update(ctx, key, change)
}

// TestAFailedTwinClaimEnrollsNothing: where the claim of her name cannot
// be written, alice's first enrollment fails with the store's error (not
// ErrCaseTwin: nobody is told a twin exists) and enrolls nothing.
func TestAFailedTwinClaimEnrollsNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, out, _ := twinSite(t, failingClaims{newService(t, FirstFactor{Open: true}).Devices.Store})
	sc := enrollment.Scope{Realm: "r", Host: "r", IP: "192.0.2.1"}
	if err := begun(t, s, out, sc, "alice", "+14155550101")(ctx); err == nil || errors.Is(err, ErrCaseTwin) || errors.Is(err, ErrTwinClaimed) {
		t.Fatalf("alice, her claim unwritten: %v, want the store's error", err)
	}
	if list, err := s.Devices.List(ctx, "r", "alice"); err != nil || len(list) != 0 {
		t.Fatalf("alice's devices: %d %v", len(list), err)
	}
}
