package admin

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/signin"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// hangs is a store whose reads of the provisioned numbers (a settle's
// Scan) hang until released.
type hangs struct {
	store.Store
	entered sync.Once
	in      chan struct{} // closed at the first Scan
	release chan struct{}
}

func (h *hangs) Scan(ctx context.Context, prefix string, fn func(string, []byte) error) error {
	h.entered.Do(func() { close(h.in) })
	<-h.release
	return h.Store.Scan(ctx, prefix, fn)
}

// TestAReloadWaitsOnNoOlderSettle: an older config's settle of realm a
// hangs on its store (a retry waiting on a Redis that stopped answering);
// a reload gives carol new numbers in realm a and realm b (another
// store). Its load waits for neither: realm b is settled at once, and
// realm a in the background once the older settle let go (with the
// reload's number). (Before, one lock held every settle of the process:
// the reload waited for the hung store's timeouts, realm b's settle too.)
func TestAReloadWaitsOnNoOlderSettle(t *testing.T) {
	ctx := context.Background()
	hung := &hangs{Store: storetest.Badger(t), in: make(chan struct{}), release: make(chan struct{})}
	other := storetest.Badger(t)
	gate := func(realm string, st store.Store, where, phone string) *Site {
		_, dev, _ := enrollment.New(&enrollment.Core{Store: st, CodeKey: []byte("0123456789abcdef0123456789abcdef"), Now: time.Now}, enrollment.Challenges{})
		carol := signin.User{Name: "carol", Phone: phone}
		in := &signin.Service{Users: map[string]signin.User{"carol": carol}, Phones: map[string]signin.User{phone: carol}, Devices: dev, Logger: zap.NewNop(), Now: time.Now}
		return &Site{Config: Config{Realm: realm, StoreConfig: []byte(`{"module":"badger","path":"` + where + `"}`)}, SignIn: in}
	}
	config := func(sites ...*Site) *App {
		app := &App{ctx: caddy.Context{Context: ctx}}
		for _, s := range sites {
			app.Register(s)
		}
		app.giveNumbers() // as Start does
		return app
	}
	older := config(gate("a", hung, "/a", "+14155552671"))
	olderDone := make(chan struct{})
	go func() { older.settleProvisioned(); close(olderDone) }()
	<-hung.in // the older settle holds realm a, hung
	defer func() {
		select {
		case <-hung.release:
		default:
			close(hung.release)
		}
		<-olderDone
	}()

	a := gate("a", hung, "/a", "+447400123456")
	b := gate("b", other, "/b", "+447400123456")
	reloaded := make(chan struct{})
	go func() { config(a, b).settleProvisioned(); close(reloaded) }()
	select {
	case <-reloaded:
	case <-time.After(3 * time.Second):
		t.Fatal("the reload waited on the older config's settle of another realm's store")
	}
	want := func(s *Site) string {
		d := s.SignIn.Devices
		return d.NumberID("provisioned numbers' key") + " " + d.NumberID("+447400123456")
	}
	key := store.Key("provisioned-number", "b", "carol")
	if v, err := other.Get(ctx, key); err != nil || string(v) != want(b) {
		t.Fatalf("realm b not settled by the reload: %q %v", v, err)
	}
	close(hung.release)
	key = store.Key("provisioned-number", "a", "carol")
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if v, err := hung.Get(ctx, key); err == nil && string(v) == want(a) {
			break
		}
		if time.Now().After(end) {
			t.Fatal("realm a was never settled with the reload's number once the older settle let go")
		}
	}
}
