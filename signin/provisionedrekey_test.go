package signin

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestARekeyedRecordIsTheSettles: carol is given two numbers at two gates
// of realm r; the settle keeps both, and the thief's phone X was added
// from the first number's session. The store's secret changes
// (Service.Rekey): the record is what a settle under the new key writes
// (so the same config again ends nothing), X names the first number
// under the new key (Given says it), and a config giving her the second
// alone removes X. On Badger and Redis. (Before: the record of the old
// key, which the settle only replaced, and X stayed.)
func TestARekeyedRecordIsTheSettles(t *testing.T) {
	t.Parallel()
	for name, open := range map[string]func(testing.TB) store.Store{"badger": storetest.Badger, "redis": storetest.Redis} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st := open(t)
			s, other := newServiceOn(st, nil), newServiceOn(st, nil)
			s.Logger, other.Logger, s.Notices, other.Notices = zap.NewNop(), zap.NewNop(), new(counted), new(counted)
			other.Users = map[string]User{"carol": {Name: "carol", Phone: "+447400123456"}}
			given := NumbersOf([]*Service{s, other})
			s.GiveNumbers(given)
			if err := SettleProvisioned(ctx, "r", time.Time{}, []*Service{s, other}, given); err != nil {
				t.Fatal(err)
			}
			x := enrollment.Device{ID: "x", Kind: factor.Phone, Phone: "+14155559001", Name: "X", AddedBy: s.numberMark("+14155552671")}
			raw, _ := json.Marshal([]enrollment.Device{x})
			if err := st.Put(ctx, store.Key("device", "r", "carol"), raw, 0); err != nil {
				t.Fatal(err)
			}

			s.Rekey("r", []byte("fedcba9876543210fedcba9876543210"))
			ids := []string{s.Devices.NumberID("+14155552671"), s.Devices.NumberID("+447400123456")}
			slices.Sort(ids)
			want := strings.Join(append([]string{s.Devices.NumberID(keyCheck)}, ids...), " ")
			if got, err := st.Get(ctx, provisionedKey("r", "carol")); err != nil || string(got) != want {
				t.Fatalf("the record after the new secret: %q %v, want the settle's %q", got, err, want)
			}
			list, err := s.Devices.List(ctx, "r", "carol")
			if err != nil || len(list) != 1 || s.Given("carol", list[0].AddedBy) != "+14155552671" {
				t.Fatalf("X after the new secret names no number given: %+v %v", list, err)
			}

			if err := SettleProvisioned(ctx, "r", time.Time{}, []*Service{s}, map[string][]string{"carol": {"+447400123456"}}); err != nil {
				t.Fatal(err)
			}
			if list, err := s.Devices.List(ctx, "r", "carol"); err != nil || len(list) != 0 {
				t.Fatalf("X stayed once the number it came from went: %+v %v", list, err)
			}
			if at, err := session.RevokedBefore(ctx, st, "r", "carol"); err != nil || at.IsZero() {
				t.Fatalf("carol's sessions not ended: %v %v", at, err)
			}
		})
	}
}
