package signin

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/providers"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// counted is a notice sender that counts what it was given.
type counted struct {
	mu   sync.Mutex
	sent []providers.Message
}

func (c *counted) Send(_ context.Context, m providers.Message) error {
	c.mu.Lock()
	c.sent = append(c.sent, m)
	c.mu.Unlock()
	return nil
}

func (c *counted) take() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.sent)
	c.sent = nil
	return n
}

// TestTwoAppConfirmsAtOnceNotifyOnce: two confirmations of one new app of
// carol's at once (a double submit, one session), her session going on or
// ended as soon as the first of them is answered (a sign-out everywhere,
// say): the app stays, added once, and her phone is told of it once. Only
// the confirmation that added the app tells the phones and may undo it;
// the other, which found it added, does neither (and, its session ended,
// is refused all the same, as a phone's second code is: before, it
// answered done without asking whether its session was live). On Badger and on a real
// Redis, in every interleaving of their reads of the setup and of the
// device list (storetest.Interleaver). Before, both told her phone (two
// "app added" notices), and, the session ended, the one answered second
// undid the adding: it removed the app the first had added and been
// answered for.
func TestTwoAppConfirmsAtOnceNotifyOnce(t *testing.T) {
	t.Parallel()
	for kind, st := range raceStores(t) {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			il := &storetest.Interleaver{Store: st}
			sealer, err := session.NewSealer(session.Derive([]byte("0123456789abcdef0123456789abcdef"), "apps"))
			if err != nil {
				t.Fatal(err)
			}
			s := newServiceOn(il, LoginForm{})
			s.Devices.Secrets, s.Devices.Limits, s.Site = sealer, enrollment.DefaultLimits, "Example"
			notices := new(counted)
			s.Notices = notices
			runs := 0
			next := func(key func(user string) string, ends bool) storetest.Pair {
				runs++
				// carol's own name: the provisioned phone gets the notices.
				user, realm := "carol", fmt.Sprint("realm-", runs)
				sc := enrollment.Scope{Realm: realm, Host: "example.com", IP: fmt.Sprintf("192.0.2.%d", runs%250+1), Known: true}
				setup, err := s.StartApp(context.Background(), realm, user, "")
				if err != nil {
					t.Fatal(err)
				}
				code, err := totp.GenerateCode(setup.Secret, time.Now())
				if err != nil {
					t.Fatal(err)
				}
				notices.take()
				var ended atomic.Bool // carol's session, ended once either is answered (if ends)
				live := func(context.Context) (bool, error) { return !ended.Load(), nil }
				var errA, errB error
				return storetest.Pair{Key: key(realm),
					A: func(ctx context.Context) { errA = s.ConfirmApp(ctx, sc, user, code, "", live); ended.Store(ends) },
					B: func(ctx context.Context) { errB = s.ConfirmApp(ctx, sc, user, code, "", live); ended.Store(ends) },
					Check: func() {
						t.Helper()
						list, err := s.Devices.List(context.Background(), realm, user)
						if err != nil {
							t.Fatal(err)
						}
						if n := notices.take(); len(list) != 1 || n != 1 || errA != nil && errB != nil || ends && errA == nil && errB == nil {
							t.Errorf("run %d: two confirmations of one app, the session ending at the first answer: %v (%v, %v): %d apps, %d notices; want 1 and 1, one answered, and the other refused once the session ended",
								runs, ends, errA, errB, len(list), n)
						}
					}}
			}
			held := 0
			for _, ends := range []bool{false, true} {
				for _, key := range []func(string) string{
					func(realm string) string { return store.Key("app-setup", realm, "carol") },
					func(realm string) string { return store.Key("device", realm, "carol") },
				} {
					held += il.Interleave(t, func() storetest.Pair { return next(key, ends) })
				}
			}
			if held < 8 {
				t.Fatalf("%d interleavings: the confirmations do not both read the setup and the list", held)
			}
		})
	}
}
