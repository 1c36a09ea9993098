package signin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/smsgate/caddy-smsgate/enrollment"
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
			for user, refused := range map[string]bool{
				"ALICE": true, "Alice": true, "alice": false, "alicE ": true, "STRASSE": true,
				"A/B%C": true, "DORA": false, "ERIN": false, "carol": false, "bob": false,
			} {
				f := &Flow{User: user}
				err := s.caseTwin(ctx, "r", f, user)
				if refused != errors.Is(err, ErrCaseTwin) || (!refused && err != nil) {
					t.Errorf("%q: %v, want refused %v", user, err, refused)
				}
				if refused {
					f.Invitee = user // the admin's invite names her
					if err := s.caseTwin(ctx, "r", f, user); err != nil {
						t.Errorf("%q by an invite: %v", user, err)
					}
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
			ctx := context.Background()
			s := newServiceOn(st, FirstFactor{Open: true})
			for user, refused := range map[string]bool{"CAROL": true, "Carol": true, "carol": false, "DAVE": false} {
				if err := s.caseTwin(ctx, "r", &Flow{User: user}, user); refused != errors.Is(err, ErrCaseTwin) || (!refused && err != nil) {
					t.Errorf("%q: %v, want refused %v", user, err, refused)
				}
			}
			s.GiveNumbers(map[string][]string{"carol": {"+14155552671"}, "dave": {"+14155552672"}}) // dave is another gate's
			for user, refused := range map[string]bool{"CAROL": true, "DAVE": true, "dave": false, "erin": false} {
				if err := s.caseTwin(ctx, "r", &Flow{User: user}, user); refused != errors.Is(err, ErrCaseTwin) || (!refused && err != nil) {
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
				if err := s.caseTwin(ctx, "r", &Flow{User: twin}, twin); !errors.Is(err, ErrCaseTwin) {
					t.Errorf("%+q: %v, want ErrCaseTwin", twin, err)
				}
			}
			if err := s.caseTwin(ctx, "r", &Flow{User: "andrea"}, "andrea"); err != nil {
				t.Errorf("andrea: %v", err)
			}
		})
	}
}
