package admin

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/signin"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestARekeyLeftBehindByAStoppedConfigTouchesNoStore: the admin API's
// accept-store has the gate adopt the new secret outside a request, so
// its re-keying (Later: the gate's drain.Go) may begin once the config
// stopped and its store was closed (Caddy cancels the config's context,
// then cleans up: the gate's drain, with no request in flight, closes the
// store at once). The re-keying asks for its turn first, which a stopped
// config never gets: it ends without a read, an error or a panic. On a
// closed Badger and a closed Redis.
func TestARekeyLeftBehindByAStoppedConfigTouchesNoStore(t *testing.T) {
	opens := map[string]func(t *testing.T) (store.Store, func() error, error){
		"badger": func(t *testing.T) (store.Store, func() error, error) { return store.OpenBadger(t.TempDir()) },
		"redis": func(t *testing.T) (store.Store, func() error, error) {
			return store.OpenRedis(&store.Redis{Addresses: []string{redistest.Server(t)}})
		},
	}
	for name, open := range opens {
		t.Run(name, func(t *testing.T) {
			st, closeStore, err := open(t)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			_, dev, _ := enrollment.New(&enrollment.Core{Store: st, CodeKey: []byte("0123456789abcdef0123456789abcdef"), Now: time.Now}, enrollment.Challenges{})
			core, logs := observer.New(zap.DebugLevel)
			carol := signin.User{Name: "carol", Phone: "+447400123456"}
			in := &signin.Service{Users: map[string]signin.User{"carol": carol}, Phones: map[string]signin.User{carol.Phone: carol}, Devices: dev, Logger: zap.New(core), Now: time.Now}
			s := &Site{Config: Config{Realm: "r", StoreConfig: []byte(`{"module":"badger","path":"/r"}`)}, Store: st, SignIn: in}
			in.RekeyTurn, in.RekeyOn = s.RekeyTurn, s.RekeyOn
			var work sync.WaitGroup
			in.Later = func(f func()) { work.Go(f) }
			app := &App{ctx: caddy.Context{Context: ctx}}
			app.Register(s)
			app.giveNumbers()
			app.settleProvisioned()

			// The config stops: its context first, then its cleanup
			// closes the store.
			cancel()
			if err := closeStore(); err != nil {
				t.Fatal(err)
			}
			in.Rekey("r", []byte("fedcba9876543210fedcba9876543210"))
			done := make(chan struct{})
			go func() { work.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("the stopped config's re-keying did not end")
			}
			for _, e := range logs.All() {
				t.Errorf("logged after its config stopped: %s %v", e.Message, e.ContextMap())
			}
		})
	}
}
