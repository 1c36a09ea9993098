package admin

import (
	"context"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/signin"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestAReplacedConfigsGateReKeysNothing: carol's first number is given
// by a config that started, and settled; a reload gives her another
// number, and its settle ran. The older config's gate (still running
// until Caddy stops it) adopts the store's new secret first: it leaves
// the record as it was (its numbers are no longer the config's). The
// newer config's gate re-keys it, in its turn: the realm's settle lock,
// which a settle holding it makes wait. On Badger and Redis, one after
// the other. (Before: the older gate re-keyed the record to its own
// numbers, dropping the new config's, and ended what it took for lost.)
func TestAReplacedConfigsGateReKeysNothing(t *testing.T) {
	// One after the other: the latest config is the process's.
	for name, open := range map[string]func(testing.TB) store.Store{"badger": storetest.Badger, "redis": storetest.Redis} {
		t.Run(name, func(t *testing.T) { replacedGateReKeysNothing(t, open(t)) })
	}
}

func replacedGateReKeysNothing(t *testing.T, st store.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	gate := func(phone string) *Site {
		_, dev, _ := enrollment.New(&enrollment.Core{Store: st, CodeKey: []byte("0123456789abcdef0123456789abcdef"), Now: time.Now}, enrollment.Challenges{})
		carol := signin.User{Name: "carol", Phone: phone}
		in := &signin.Service{Users: map[string]signin.User{"carol": carol}, Phones: map[string]signin.User{phone: carol}, Devices: dev, Logger: zap.NewNop(), Now: time.Now}
		s := &Site{Config: Config{Realm: "r", StoreConfig: []byte(`{"module":"badger","path":"/r"}`)}, SignIn: in}
		in.RekeyTurn = s.RekeyTurn
		done := make(chan struct{})
		in.Later = func(work func()) { go func() { defer close(done); work() }() }
		t.Cleanup(func() {
			select {
			case <-done:
			case <-time.After(10 * time.Second):
			}
		})
		return s
	}
	config := func(s *Site) *App {
		app := &App{ctx: caddy.Context{Context: ctx}}
		app.Register(s)
		app.giveNumbers()
		return app
	}
	older, newer := gate("+14155552671"), gate("+447400123456")
	config(older).settleProvisioned()
	config(newer).settleProvisioned()
	key := store.Key("provisioned-number", "r", "carol")
	before, err := st.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	newKey := []byte("fedcba9876543210fedcba9876543210")
	older.SignIn.Rekey("r", newKey)
	time.Sleep(200 * time.Millisecond)
	if v, err := st.Get(ctx, key); err != nil || string(v) != string(before) {
		t.Fatalf("the replaced config's gate re-keyed the record: %q %v, was %q", v, err, before)
	}

	// Its lock, as its start named it: inherited from the config that
	// started before it in this process where that served realm r on a
	// store named alike (another test's: every test here names /r).
	mu, _ := settling.locks.Load(newer.settleKey())
	mu.(interface{ Lock() }).Lock() // a settle of the realm runs
	newer.SignIn.Rekey("r", newKey)
	time.Sleep(200 * time.Millisecond)
	if v, _ := st.Get(ctx, key); string(v) != string(before) {
		mu.(interface{ Unlock() }).Unlock()
		t.Fatalf("re-keyed while the realm's settle ran: %q", v)
	}
	mu.(interface{ Unlock() }).Unlock()
	d := newer.SignIn.Devices
	want := d.NumberID("provisioned numbers' key") + " " + d.NumberID("+447400123456")
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if v, err := st.Get(ctx, key); err == nil && string(v) == want {
			break
		}
		if time.Now().After(end) {
			v, err := st.Get(ctx, key)
			t.Fatalf("the latest config's gate did not re-key the record: %q %v, want %q", v, err, want)
		}
	}
}
