package signin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/store"
)

// TestWhichNamesAreCaseTwins: a user's own first enrollment is refused
// where the realm holds a device record, not empty, of a name equal to
// hers under twinKey (ß and SS too, spaces around) but not hers, however
// Key escaped it; not for another realm's user, nor an empty record, nor
// by an invite the flow accepted (the admin's), nor for a user of the
// config's. On Badger and a real Redis (with a key prefix: the scan's
// keys are the gate's, without it).
func TestWhichNamesAreCaseTwins(t *testing.T) {
	t.Parallel()
	for kind, st := range raceStores(t) {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			s := newServiceOn(st, FirstFactor{Open: true})
			put := func(realm, user string, devices []enrollment.Device) {
				raw, _ := json.Marshal(devices)
				if err := st.Put(ctx, store.Key("device", realm, user), raw, 0); err != nil {
					t.Fatal(err)
				}
			}
			phone := []enrollment.Device{{ID: "1", Phone: "+14155550101"}}
			put("r", "alice", phone)
			put("r", "straße", phone)
			put("r", "a/b%c", phone)
			put("r", "Carol", phone)
			put("r", "dora", []enrollment.Device{}) // her last device removed
			put("r2", "erin", phone)
			var invited []string
			for user, refused := range map[string]bool{
				"ALICE": true, "Alice": true, "alice": false, "alicE ": true, "STRASSE": true,
				"A/B%C": true, "DORA": false, "ERIN": false, "carol": false, "bob": false,
			} {
				err := bothTwin(t, s, "r", &Flow{User: user}, user)
				if refused != errors.Is(err, ErrCaseTwin) || (!refused && err != nil) {
					t.Errorf("%q: %v, want refused %v", user, err, refused)
				}
				if refused {
					invited = append(invited, user)
				}
			}
			// Last: an invite's enrollment claims the name (ClaimName), which
			// then turns a twin's own away for a while.
			for _, user := range invited {
				f := &Flow{User: user, Invitee: user} // the admin's invite names her
				if err := bothTwin(t, s, "r", f, user); err != nil {
					t.Errorf("%q by an invite: %v", user, err)
				}
			}
		})
	}
}

// TestAConfigUsersCaseTwinIsRefused: a config's user (`user carol +1…`)
// holds her phone in the config and no device record; CAROL's own first
// enrollment is refused all the same, and so is that of a twin of a user
// another gate of the realm gives a number (GiveNumbers). Before, only
// device records were compared: CAROL enrolled his own phone.
func TestAConfigUsersCaseTwinIsRefused(t *testing.T) {
	t.Parallel()
	for kind, st := range raceStores(t) {
		t.Run(kind, func(t *testing.T) {
			s := newServiceOn(st, FirstFactor{Open: true})
			for user, refused := range map[string]bool{"CAROL": true, "Carol": true, "carol": false, "DAVE": false} {
				if err := bothTwin(t, s, "r", &Flow{User: user}, user); refused != errors.Is(err, ErrCaseTwin) || (!refused && err != nil) {
					t.Errorf("%q: %v, want refused %v", user, err, refused)
				}
			}
			s.GiveNumbers(map[string][]string{"carol": {"+14155552671"}, "dave": {"+14155552672"}}) // dave is another gate's
			for user, refused := range map[string]bool{"CAROL": true, "DAVE": true, "dave": false, "erin": false} {
				if err := bothTwin(t, s, "r", &Flow{User: user}, user); refused != errors.Is(err, ErrCaseTwin) || (!refused && err != nil) {
					t.Errorf("given: %q: %v, want refused %v", user, err, refused)
				}
			}
		})
	}
}

// TestTwinsBySpacingAndNormalisationAreRefused: beside an enrolled alice
// and andré (NFC), and a config's carol, names equal to theirs once
// NFKC-normalised and trimmed are refused too: "ALICE ", " alice", a
// full-width ＡＬＩＣＥ, a decomposed andre\u0301, "CAROL ". Before, only
// cases.Fold was compared: they all enrolled (review23's F3).
func TestTwinsBySpacingAndNormalisationAreRefused(t *testing.T) {
	t.Parallel()
	for kind, st := range raceStores(t) {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			s := newServiceOn(st, FirstFactor{Open: true})
			for i, u := range []string{"alice", "andr\u00e9"} {
				if _, _, err := s.Devices.AddIn(ctx, "r", u, fmt.Sprint("+1415555010", i), "", ""); err != nil {
					t.Fatal(err)
				}
			}
			for _, twin := range []string{"ALICE ", " alice", "\uff21\uff2c\uff29\uff23\uff25", "ANDRE\u0301", "andre\u0301", "CAROL ", "\uff43arol"} {
				if err := bothTwin(t, s, "r", &Flow{User: twin}, twin); !errors.Is(err, ErrCaseTwin) {
					t.Errorf("%+q: %v, want ErrCaseTwin", twin, err)
				}
			}
			if err := bothTwin(t, s, "r", &Flow{User: "andrea"}, "andrea"); err != nil {
				t.Errorf("andrea: %v", err)
			}
		})
	}
}

// bothTwin asks caseTwin where an enrollment begins (the snapshot) and
// where its device is written (a fresh scan): they must agree.
func bothTwin(t *testing.T, s *Service, realm string, f *Flow, user string) error {
	t.Helper()
	ctx := context.Background()
	begun, err := s.caseTwin(ctx, realm, f, user, false), s.caseTwin(ctx, realm, f, user, true)
	if errors.Is(begun, ErrCaseTwin) != errors.Is(err, ErrCaseTwin) {
		t.Errorf("%q: %v where it begins, %v where it completes", user, begun, err)
	}
	return err
}

// scanCount counts a store's Scans.
type scanCount struct {
	store.Store
	scans atomic.Int64
}

func (s *scanCount) Scan(ctx context.Context, prefix string, fn func(string, []byte) error) error {
	s.scans.Add(1)
	return s.Store.Scan(ctx, prefix, fn)
}

// TestRefusedEnrollPOSTsShareAScan: 500 refused enroll POSTs of ALICE
// (alice enrolled) make one scan of the realm's device records and one
// audit line, and 50 at once after the snapshot aged twinsFresh make one
// more of each (the line counting the 499 unwritten); yet bob's code,
// sent before Bob enrolled just now, is refused at completion (a fresh
// scan) and enrolls nothing. On Badger and Redis. Before, each POST
// scanned the realm (500 scans: review23's F2).
func TestRefusedEnrollPOSTsShareAScan(t *testing.T) {
	t.Parallel()
	for kind, st := range raceStores(t) {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			sc := enrollment.Scope{Realm: "r", Host: "r", IP: "192.0.2.1"}
			counted := &scanCount{Store: st}
			tpl, err := enrollment.ParseTemplates("", "")
			if err != nil {
				t.Fatal(err)
			}
			out := &lastCode{}
			ch, dev, adm := enrollment.New(&enrollment.Core{Store: counted, CodeKey: []byte("0123456789abcdef0123456789abcdef"), Now: time.Now},
				enrollment.Challenges{Sender: out, CodeLength: 6, CodeTTL: 5 * time.Minute, MaxAttempts: 5, Templates: tpl})
			var clock atomic.Int64
			clock.Store(time.Now().UnixNano())
			s := &Service{Identity: FirstFactor{Open: true}, Challenges: ch, Devices: dev, Invites: adm, Channels: []factor.Channel{"sms"},
				CodeLength: 6, Now: func() time.Time { return time.Unix(0, clock.Load()) }, Logger: zap.NewNop()}
			var mu sync.Mutex
			var lines []string // the refusals' audit lines: user and repeats
			s.Audit = func(event, user, _ string, fields ...zap.Field) {
				if event == "enrollment_refused_case" {
					mu.Lock()
					defer mu.Unlock()
					line := user
					for _, f := range fields {
						if f.Key == "repeats" {
							line += fmt.Sprint(" repeats=", f.Integer)
						}
					}
					lines = append(lines, line)
				}
			}
			if _, _, err := dev.AddIn(ctx, "r", "alice", "+14155550101", "", ""); err != nil {
				t.Fatal(err)
			}
			for i := range 500 {
				if _, err := s.Enroll(ctx, sc, &Flow{ID: "f"}, "ALICE", "+14155550199", ""); !errors.Is(err, ErrCaseTwin) {
					t.Fatalf("POST %d: %v", i, err)
				}
			}
			if n := counted.scans.Load(); n != 1 || len(lines) != 1 || lines[0] != "ALICE" {
				t.Fatalf("500 refused POSTs made %d scans, want 1, and audit lines %q, want one", n, lines)
			}
			clock.Add(int64(twinsFresh))
			var wg sync.WaitGroup
			for range 50 {
				wg.Go(func() {
					if _, err := s.Enroll(ctx, sc, &Flow{ID: "f"}, "ALICE", "+14155550199", ""); !errors.Is(err, ErrCaseTwin) {
						t.Errorf("a POST at once: %v", err)
					}
				})
			}
			wg.Wait()
			if n := counted.scans.Load(); n != 2 || len(lines) != 2 || lines[1] != "ALICE repeats=499" {
				t.Fatalf("50 POSTs at once, the snapshot aged: %d scans in all, want 2, and audit lines %q", n, lines)
			}
			f := &Flow{ID: "b"}
			c, err := s.Enroll(ctx, sc, f, "bob", "+14155550102", "")
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := dev.AddIn(ctx, "r", "Bob", "+14155550103", "", ""); err != nil { // just now: the snapshot does not know
				t.Fatal(err)
			}
			out.mu.Lock()
			code := out.code
			out.mu.Unlock()
			if _, err := s.Check(ctx, sc, f, "bob", c, code, nil); !errors.Is(err, ErrCaseTwin) {
				t.Fatalf("bob's code, Bob enrolled since it was sent: %v, want ErrCaseTwin", err)
			}
			if len(lines) != 3 || lines[2] != "bob" {
				t.Fatalf("audit lines %q, want bob's refusal at completion", lines)
			}
			if list, err := dev.List(ctx, "r", "bob"); err != nil || len(list) > 0 {
				t.Fatalf("bob's devices: %d %v", len(list), err)
			}
		})
	}
}
