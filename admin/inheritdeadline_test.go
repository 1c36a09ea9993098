package admin

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/continuity"
	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/signin"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// hangStore is a store that stops answering (a blackholed Redis host):
// each read waits for its context.
type hangStore struct {
	store.Store
	hang atomic.Bool
}

func (h *hangStore) Get(ctx context.Context, key string) ([]byte, error) {
	if h.hang.Load() {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return h.Store.Get(ctx, key)
}

// realmsConfig is a config of one gate a realm, each on st (written path).
func realmsConfig(t *testing.T, ctx context.Context, st store.Store, path string, realms ...string) (*App, []*Site) {
	app := &App{ctx: caddy.Context{Context: ctx}}
	var sites []*Site
	for _, realm := range realms {
		epoch, _, err := continuity.Open(ctx, st, continuity.Options{})
		if err != nil {
			t.Fatal(err)
		}
		_, dev, _ := enrollment.New(&enrollment.Core{Store: st, CodeKey: []byte("0123456789abcdef0123456789abcdef"), Now: time.Now}, enrollment.Challenges{})
		carol := signin.User{Name: "carol", Phone: "+14155552671"}
		in := &signin.Service{Users: map[string]signin.User{"carol": carol}, Phones: map[string]signin.User{carol.Phone: carol}, Devices: dev, Logger: zap.NewNop(), Now: time.Now}
		s := &Site{Config: Config{Realm: realm, StoreConfig: []byte(`{"module":"badger","path":"` + path + `"}`)}, Store: st, Epoch: epoch, SignIn: in}
		app.Register(s)
		sites = append(sites, s)
	}
	return app, sites
}

// TestAReloadOffADeadStoreWaitsOneBudgetInAll: three realms move from
// store A, now blackholed, to store B (a reload after A died). The new
// config's start (giveNumbers) reads A's epoch record again for each
// realm (inherited), all within one request budget, and none waits past
// it for the old gate's own watch, mid-look on the dead store (10 s).
// Before (review19 M1): a budget per realm, 9.0 s for three realms, and
// 9.9 s behind the busy watch (Check's lock ignores the context).
func TestAReloadOffADeadStoreWaitsOneBudgetInAll(t *testing.T) {
	for _, watchBusy := range []bool{false, true} {
		t.Run(fmt.Sprintf("oldWatchMidLook=%v", watchBusy), func(t *testing.T) {
			defer settling.latest.Store(nil)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			a := &hangStore{Store: storetest.Badger(t)}
			realms := []string{"r1", "r2", "r3"}
			older, oldSites := realmsConfig(t, ctx, a, "/a", realms...)
			older.giveNumbers()
			settling.latest.Store(older)
			a.hang.Store(true)
			looked := make(chan struct{})
			if watchBusy { // the old gate's own watch is mid-look on the dead store (10 s, storewatch.check)
				wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
				defer func() { wcancel(); <-looked }()
				go func() { defer close(looked); _, _ = oldSites[0].Epoch.Check(wctx) }()
				time.Sleep(100 * time.Millisecond)
			}
			newer, _ := realmsConfig(t, ctx, storetest.Badger(t), "/b", realms...)
			start := time.Now()
			newer.giveNumbers() // App.Start
			took := time.Since(start)
			t.Logf("start (giveNumbers) took %v for %d realms; budget %v", took, len(realms), store.RequestTime())
			if took > store.RequestTime()+time.Second {
				t.Errorf("the start waited %v on the dead old store: more than one request budget (%v)", took, store.RequestTime())
			}
			for i, r := range newer.settles { // another store: no lock to inherit
				if o := older.settles[i]; r.realm != o.realm || r.key == o.key {
					t.Errorf("realm %s took the lock %q of realm %s on the dead store", r.realm, r.key, o.realm)
				}
			}
		})
	}
}
