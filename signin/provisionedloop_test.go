package signin

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// addsFirst is a store whose first Update of a key ending in key, once
// armed, first runs add (another session's adding, landing as the
// settle removes).
type addsFirst struct {
	store.Store
	key   string
	add   func(context.Context)
	armed atomic.Bool
}

func (a *addsFirst) Update(ctx context.Context, k string, change func([]byte, bool) ([]byte, time.Duration, error)) error {
	if strings.HasSuffix(k, a.key) && a.armed.Swap(false) {
		a.add(ctx)
	}
	return a.Store.Update(ctx, k, change)
}

// TestASettleRemovesWhatWasAddedWhileItRemoved: the thief's phone Y,
// added from alice's config phone's session, still has a session the
// settle did not end (one issued at a gate still on the old config, or
// another instance), and adds Z from it just as the settle removes Y
// (review13 L1): Z records the lost number (Y still listed), but the
// settle had read her devices before. It reads them again until a round
// finds none of the lost number's: Z goes too. Before, Z stayed, and
// signed the thief in after the number's change.
func TestASettleRemovesWhatWasAddedWhileItRemoved(t *testing.T) {
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		wrapped := &addsFirst{Store: st, key: "/alice"}
		alice := User{Name: "alice", Phone: "+14155552671"}
		s := newServiceOn(wrapped, nil)
		s.Users, s.Phones = map[string]User{"alice": alice}, map[string]User{alice.Phone: alice}
		s.Logger, s.Notices, s.Site = zap.NewNop(), new(counted), "Example"
		if err := settleRealm(ctx, time.Time{}, s); err != nil {
			t.Fatal(err)
		}
		fromPhone := enrollment.AddedFrom(ctx, s.numberMark(alice.Phone))
		y, _, err := s.Devices.AddIn(fromPhone, "r", "alice", "+14155559001", "Y", "en")
		if err != nil {
			t.Fatal(err)
		}
		wrapped.key = store.Key("device", "r", "alice")
		wrapped.add = func(ctx context.Context) {
			if _, _, err := s.Devices.AddIn(enrollment.AddedFrom(ctx, y), "r", "alice", "+14155559002", "Z", "en"); err != nil {
				t.Error(err)
			}
		}
		wrapped.armed.Store(true)

		moved := newServiceOn(wrapped, nil)
		p2 := User{Name: "alice", Phone: "+447400123456"}
		moved.Users, moved.Phones = map[string]User{"alice": p2}, map[string]User{p2.Phone: p2}
		moved.Logger, moved.Notices, moved.Site = zap.NewNop(), new(counted), "Example"
		if err := settleRealm(ctx, time.Time{}, moved); err != nil {
			t.Fatal(err)
		}
		list, err := s.Devices.List(ctx, "r", "alice")
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, d := range list {
			names = append(names, d.Name)
		}
		if len(list) != 0 {
			t.Errorf("her number changed: her devices %q; want none (Y and Z added by the lost number's sessions)", names)
		}
	})
}
