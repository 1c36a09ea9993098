package signin

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/providers"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// raceStores are a Badger store and a real Redis's, by kind, for the
// races of two changes at once (storetest.Interleaver).
func raceStores(t *testing.T) map[string]store.Store {
	t.Helper()
	db := storetest.Badger(t)
	r, closeRedis, err := store.OpenRedis(&store.Redis{Addresses: []string{redistest.Server(t)}, KeyPrefix: t.Name() + ":"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = closeRedis() })
	return map[string]store.Store{"badger": db, "redis": r}
}

// codes is a sender that keeps the last code it was given.
type codes struct {
	mu   sync.Mutex
	last string
}

func (c *codes) Send(_ context.Context, m providers.Message) error {
	c.mu.Lock()
	c.last = m.Code
	c.mu.Unlock()
	return nil
}

func (c *codes) take() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

// phoneAdding is a gate on st whose codes sent are kept (sent) and whose
// notices are counted: for the tests of a phone added twice at once.
func phoneAdding(t *testing.T, st store.Store) (*Service, *codes, *counted) {
	t.Helper()
	s := newServiceOn(st, LoginForm{})
	tpl, err := enrollment.ParseTemplates("", "")
	if err != nil {
		t.Fatal(err)
	}
	sent, notices := new(codes), new(counted)
	s.Challenges.Sender, s.Challenges.Templates = sent, tpl
	s.Challenges.CodeTTL, s.Challenges.MaxAttempts, s.Challenges.CodeLength = time.Hour, 5, 6
	s.Notices, s.Site = notices, "Example"
	return s, sent, notices
}

// TestTwoPhoneAddsAtOnceNotifyOnce: carol adds one new number in two tabs
// (two codes to it, one session), and both codes are checked at once, her
// session going on or ended as soon as the first of them is answered (a
// sign-out everywhere, say): the phone stays, added once, and her phone
// is told of it once. Only the check that added the phone tells the
// phones and may undo it; the other, which found it added, does neither
// (and, its session ended, is refused all the same: it signs nobody in). On Badger and on a real
// Redis, in every interleaving of their reads of the device list
// (storetest.Interleaver). Before, both told her phone (two "phone
// added" notices), and, the session ended, the one answered second undid
// the adding: it removed the phone the first had added and been answered
// for.
func TestTwoPhoneAddsAtOnceNotifyOnce(t *testing.T) {
	t.Parallel()
	for kind, st := range raceStores(t) {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			il := &storetest.Interleaver{Store: st}
			s, sent, notices := phoneAdding(t, il)
			const added = "+447400123456"
			runs := 0
			next := func(ends bool) storetest.Pair {
				runs++
				user, realm := "carol", fmt.Sprint("realm-", runs)
				send := func(ip int) (*Flow, *enrollment.Challenge, string) {
					// Two tabs: two flows, from two addresses (each its own
					// waits), each sent a code of its own to the number.
					sc := enrollment.Scope{Realm: realm, Host: "example.com", IP: fmt.Sprintf("192.0.2.%d", ip), Known: true}
					f := &Flow{ID: enrollment.RandomID(), User: user}
					c, err := s.AddPhone(context.Background(), sc, f, user, added, "", "Work")
					if err != nil {
						t.Fatal(err)
					}
					return f, c, sent.take()
				}
				fA, cA, codeA := send(1)
				fB, cB, codeB := send(2)
				notices.take()
				var ended atomic.Bool // carol's session, ended once either is answered (if ends)
				live := func(context.Context) (bool, error) { return !ended.Load(), nil }
				check := func(ctx context.Context, f *Flow, c *enrollment.Challenge, code string, ip int) error {
					sc := enrollment.Scope{Realm: realm, Host: "example.com", IP: fmt.Sprintf("192.0.2.%d", ip), Known: true}
					_, err := s.Check(ctx, sc, f, user, c, code, live)
					ended.Store(ends)
					return err
				}
				var errA, errB error
				return storetest.Pair{Key: store.Key("device", realm, user),
					A: func(ctx context.Context) { errA = check(ctx, fA, cA, codeA, 1) },
					B: func(ctx context.Context) { errB = check(ctx, fB, cB, codeB, 2) },
					Check: func() {
						t.Helper()
						list, err := s.Devices.List(context.Background(), realm, user)
						if err != nil {
							t.Fatal(err)
						}
						if n := notices.take(); len(list) != 1 || n != 1 || errA != nil && errB != nil {
							t.Errorf("run %d: two checks of codes for one number, the session ending at the first answer: %v (%v, %v): %d phones, %d notices; want 1 and 1, and one answered",
								runs, ends, errA, errB, len(list), n)
						}
					}}
			}
			held := 0
			for _, ends := range []bool{false, true} {
				held += il.Interleave(t, func() storetest.Pair { return next(ends) })
			}
			if held < 4 {
				t.Fatalf("%d interleavings: the checks do not both read the device list", held)
			}
		})
	}
}
