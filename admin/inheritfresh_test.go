package admin

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/continuity"
	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/internal/clock"
	"github.com/smsgate/caddy-smsgate/signin"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestAReloadSpelledAnotherWayAfterAnotherInstancesAcceptWaitsForTheOlderSettle:
// as TestAReloadAfterAcceptStoreWaitsForTheOlderSettle, but the accept is
// another instance's (this one's watch would read it within 2 s) and the
// reload spells the store another way: the reload's gates read the epoch
// record again where nothing matched (inherited), find the older
// config's store, and take its lock. Before (review17 L3), the older
// config's gate still held the replaced ID, nothing matched, and both
// settles ran at once.
func TestAReloadSpelledAnotherWayAfterAnotherInstancesAcceptWaitsForTheOlderSettle(t *testing.T) {
	restore, err := clock.Shorten("settle-retry", 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer restore()
	for name, open := range map[string]func(testing.TB) store.Store{"badger": storetest.Badger, "redis": storetest.Redis} {
		t.Run(name, func(t *testing.T) { reloadRespelledAfterAnotherInstancesAccept(t, open(t)) })
	}
}

func reloadRespelledAfterAnotherInstancesAccept(t *testing.T, backing store.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := &settleWatch{Store: backing, in: make(chan struct{}), release: make(chan struct{})}
	released := sync.OnceFunc(func() { close(st.release) })
	defer released()
	config := func(phone, path string) (*App, *Site) {
		epoch, _, err := continuity.Open(ctx, st, continuity.Options{})
		if err != nil {
			t.Fatal(err)
		}
		_, dev, _ := enrollment.New(&enrollment.Core{Store: st, CodeKey: []byte("0123456789abcdef0123456789abcdef"), Now: time.Now}, enrollment.Challenges{})
		carol := signin.User{Name: "carol", Phone: phone}
		in := &signin.Service{Users: map[string]signin.User{"carol": carol}, Phones: map[string]signin.User{phone: carol}, Devices: dev, Logger: zap.NewNop(), Now: time.Now}
		s := &Site{Config: Config{Realm: "r", StoreConfig: []byte(`{"module":"badger","path":"` + path + `"}`)}, Store: st, Epoch: epoch, SignIn: in}
		app := &App{ctx: caddy.Context{Context: ctx}}
		app.Register(s)
		app.giveNumbers()
		return app, s
	}
	older, _ := config("+14155552671", "/r")
	st.down.Store(true)
	older.settleProvisioned()
	other, _, err := continuity.Open(ctx, st, continuity.Options{}) // another instance's watch
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Accept(ctx, "accept-store", true); err != nil {
		t.Fatal(err)
	}
	st.held.Store(true)
	st.down.Store(false)
	select {
	case <-st.in:
	case <-time.After(10 * time.Second):
		t.Fatal("the settle's retry never ran")
	}
	newer, _ := config("+447400123456", "/r/") // the same folder, spelled another way
	newer.settleProvisioned()
	if n := st.highest.Load(); n > 1 {
		t.Errorf("the reload's settle ran while the older retry held the realm: %d at once (keys %q, %q)", n, older.settles[0].key, newer.settles[0].key)
	}
	released()
	cancel()
	time.Sleep(300 * time.Millisecond) // the retries see the config stopped
}
