package admin

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
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

// settleWatch is a store whose reads of the provisioned numbers (a
// settle's Scan, a re-keying's) fail while down, hold the first one made
// once held is set until released, and count those in flight: the most
// at once is max.
type settleWatch struct {
	store.Store
	down, held   atomic.Bool
	in, release  chan struct{}
	now, highest atomic.Int32
}

func (w *settleWatch) Scan(ctx context.Context, prefix string, fn func(string, []byte) error) error {
	if !strings.HasPrefix(prefix, "provisioned-number") {
		return w.Store.Scan(ctx, prefix, fn)
	}
	if w.down.Load() {
		return errors.New("store down")
	}
	n := w.now.Add(1)
	defer w.now.Add(-1)
	for h := w.highest.Load(); n > h && !w.highest.CompareAndSwap(h, n); h = w.highest.Load() {
	}
	if w.held.CompareAndSwap(true, false) {
		close(w.in)
		<-w.release
	}
	return w.Store.Scan(ctx, prefix, fn)
}

// settleRetryOnBadgerAndRedis runs run on Badger and on Redis, a settle's
// retry shortened to 20 ms.
func settleRetryOnBadgerAndRedis(t *testing.T, run func(*testing.T, store.Store)) {
	restore, err := clock.Shorten("settle-retry", 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer restore()
	for name, open := range map[string]func(testing.TB) store.Store{"badger": storetest.Badger, "redis": storetest.Redis} {
		t.Run(name, func(t *testing.T) { run(t, open(t)) })
	}
}

// carolsConfig is a config of one gate of realm "r" on st (its store
// config naming the folder path) giving carol phone, its numbers given as
// Start does.
func carolsConfig(ctx context.Context, t *testing.T, st store.Store, phone, path string) (*App, *Site) {
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

// retryAcrossAccept fails app's settle at its start (the store down), its
// retry pending; accepts the store's state through epoch (accept-store: a
// new epoch ID); lets the store answer, and returns once the retry's
// settle holds the realm's lock, in its Scan, until w is released.
func (w *settleWatch) retryAcrossAccept(ctx context.Context, t *testing.T, app *App, epoch *continuity.Watch) {
	w.down.Store(true)
	app.settleProvisioned()
	if _, err := epoch.Accept(ctx, "accept-store", true); err != nil {
		t.Fatal(err)
	}
	w.held.Store(true)
	w.down.Store(false)
	select {
	case <-w.in:
	case <-time.After(10 * time.Second):
		t.Fatal("the settle's retry never ran")
	}
}

// TestARekeyAfterAcceptStoreWaitsForThePendingSettle: a config's settle
// fails at its start (the store down), its retry pending; an admin
// accepts the store's state (accept-store: a new epoch record, whose ID
// named the realm's settle lock), the store answers again and the retry
// settles; meanwhile the gate adopts a new secret and re-keys. The
// re-keying waits for the settle's lock, and re-keys after it: never
// both at once. On Badger and Redis. (Before, the re-keying took the
// lock of the new epoch's ID, the retry the start's: both ran at once,
// final16 L-2.)
func TestARekeyAfterAcceptStoreWaitsForThePendingSettle(t *testing.T) {
	settleRetryOnBadgerAndRedis(t, rekeyAfterAcceptStore)
}

func rekeyAfterAcceptStore(t *testing.T, backing store.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := &settleWatch{Store: backing, in: make(chan struct{}), release: make(chan struct{})}
	released := sync.OnceFunc(func() { close(st.release) })
	defer released()
	app, s := carolsConfig(ctx, t, st, "+447400123456", "/r")
	in, dev, carol := s.SignIn, s.SignIn.Devices, s.SignIn.Users["carol"]
	in.RekeyTurn, in.RekeyOn = s.RekeyTurn, s.RekeyOn
	var work sync.WaitGroup
	in.Later = func(f func()) { work.Go(f) }
	defer work.Wait() // after cancel: the config stopped
	defer cancel()

	st.retryAcrossAccept(ctx, t, app, s.Epoch) // the retry's settle holds the realm's lock
	in.Rekey("r", []byte("fedcba9876543210fedcba9876543210"))
	time.Sleep(300 * time.Millisecond) // the re-keying's turn, were it given
	if n := st.highest.Load(); n > 1 {
		t.Errorf("the re-keying read the provisioned numbers while the settle's retry held the realm: %d at once", n)
	}
	released()
	key := store.Key("provisioned-number", "r", "carol")
	want := dev.NumberID("provisioned numbers' key") + " " + dev.NumberID(carol.Phone)
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if v, err := st.Get(ctx, key); err == nil && string(v) == want {
			break
		}
		if time.Now().After(end) {
			v, err := st.Get(ctx, key)
			t.Fatalf("carol's record not settled and re-keyed: %q %v, want %q", v, err, want)
		}
	}
	if n := st.highest.Load(); n > 1 {
		t.Errorf("the settle and the re-keying ran at once: %d", n)
	}
}

// TestAReloadAfterAcceptStoreWaitsForTheOlderSettle: a config's settle
// fails at its start, its retry pending; an admin accepts the store's
// state (a new epoch ID), the store answers again, and the retry settles
// (it began before the reload: it settles on). A reload that gives carol
// another number starts meanwhile: its settle waits for the older one's
// lock, as it did before the accept, and settles after it, with the
// reload's number. On Badger and Redis. (Before, the reload's settle
// took the lock of the new epoch's ID: both settles ran at once.)
func TestAReloadAfterAcceptStoreWaitsForTheOlderSettle(t *testing.T) {
	settleRetryOnBadgerAndRedis(t, reloadAfterAcceptStore)
}

func reloadAfterAcceptStore(t *testing.T, backing store.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := &settleWatch{Store: backing, in: make(chan struct{}), release: make(chan struct{})}
	released := sync.OnceFunc(func() { close(st.release) })
	defer released()
	older, site := carolsConfig(ctx, t, st, "+14155552671", "/r")
	st.retryAcrossAccept(ctx, t, older, site.Epoch) // the older retry's settle holds the realm's lock
	newer, reloaded := carolsConfig(ctx, t, st, "+447400123456", "/r")
	newer.settleProvisioned()
	if n := st.highest.Load(); n > 1 {
		t.Errorf("the reload's settle read the provisioned numbers while the older retry held the realm: %d at once", n)
	}
	released()
	key := store.Key("provisioned-number", "r", "carol")
	dev := reloaded.SignIn.Devices
	want := dev.NumberID("provisioned numbers' key") + " " + dev.NumberID("+447400123456")
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if v, err := st.Get(ctx, key); err == nil && string(v) == want {
			break
		}
		if time.Now().After(end) {
			v, err := st.Get(ctx, key)
			t.Fatalf("carol's record not settled with the reload's number: %q %v, want %q", v, err, want)
		}
	}
}
