package enrollment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/providers"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// login is a login form's scope: a browser not known, answered blind.
var loginForm = Scope{Realm: realm, Host: host, IP: "192.0.2.7", Blind: true}

// sentCount is how many messages out holds.
func (o *outbox) sentCount() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.sent)
}

// TestRacingLoginsKeepTheDoubling: two login posts at once from one
// client (the same typed name, the same IP), after a first code whose
// wait is over, send one code, not two, and the wait after it is the
// doubled one (60 s); so do two "send again" of a user's own cooldown
// (its one record holds the doubling). Each race runs on Badger and on a
// real Redis, in every interleaving of the two sends' reads of the
// record and raceRuns times at once. Before, the record was read in one
// round trip and written in the next: a send that read it before the
// other wrote passed the wait too, and its text was one more than the
// schedule allows (two texts in 4 of 4 interleavings on each store).
func TestRacingLoginsKeepTheDoubling(t *testing.T) {
	t.Parallel()
	on := raceStores(t)
	for _, at := range []struct {
		name string
		sc   Scope
	}{{"LoginForm", loginForm}, {"OwnCooldown", enrolled}} {
		on(at.name+"/", func(t *testing.T, st store.Store) {
			il := &storetest.Interleaver{Store: st}
			s, out, clk := raceService(t, il)
			s.ResendCooldown = 30 * time.Second
			ctx := context.Background()
			// What went wrong, counted apart for the interleavings
			// (held) and the runs at once.
			twice, none, waits := map[bool]int{}, map[bool]int{}, map[time.Duration]int{}
			runs, held := 0, true
			next := func() storetest.Pair {
				runs++
				c := Challenge{User: fmt.Sprint("user", runs), Phone: num, Purpose: Verify}
				sc := at.sc
				if at.sc.Blind { // loginForm (a Scope holds a func: not comparable)
					c.LimitKey = fmt.Sprint("login user", runs)
					// A client of its own: the number's streak of the
					// runs before (loginwait.go) does not hold it.
					sc.IP = fmt.Sprint("192.0.2.", runs)
				}
				// A first code, its wait over: the next one waits 60 s.
				if _, err := s.Start(ctx, sc, c); err != nil {
					t.Fatal(err)
				}
				clk.advance(31 * time.Second)
				sent := out.sentCount()
				return twoSends(t, s, sc, c, runs, func() {
					switch out.sentCount() - sent {
					case 2:
						twice[held]++
					case 0:
						none[held]++
					}
					if left := s.CooldownLeft(ctx, sc, c); left != 60*time.Second {
						waits[left]++
					}
				})
			}
			interleavings := interleaveThenRace(t, il, next, &held)
			if len(twice)+len(none)+len(waits) > 0 {
				t.Errorf("two codes sent in %d of %d interleavings and %d of %d runs at once; none in %d and %d; waits after them other than 60 s: %v",
					twice[true], interleavings, twice[false], raceRuns, none[true], none[false], waits)
			}
		})
	}
}

// twoSends is the same send (c, at sc) twice at once, raced on its
// doubling's record: check runs once both are done, the two each sent or
// refused by a cooldown (run, the run's number, names it).
func twoSends(t *testing.T, s *Challenges, sc Scope, c Challenge, run int, check func()) storetest.Pair {
	var errs [2]error
	send := func(i int) func(context.Context) {
		return func(ctx context.Context) { _, errs[i] = s.Start(ctx, sc, c) }
	}
	return storetest.Pair{Key: s.doublingKey(sc, &c), A: send(0), B: send(1), Check: func() {
		for _, err := range errs {
			if err != nil && !errors.As(err, new(*CooldownError)) {
				t.Fatalf("run %d: %v", run, err)
			}
		}
		check()
	}}
}

// TestAStreakFromThePreviousReleaseHolds: a login form's streak that the
// previous release wrote (its key built by hand, as it built it, for a
// client on IPv4 and one on IPv6) is the one this release reads and
// writes: an upgrade forgets no client's doubling. Its third code waits
// 120 s, as it would have without the upgrade.
func TestAStreakFromThePreviousReleaseHolds(t *testing.T) {
	t.Parallel()
	s, out, clk := newService(t)
	ctx := context.Background()
	for _, ip := range []string{"192.0.2.7", "2001:db8:1:2:3:4:5:6"} {
		at := loginForm
		at.IP = ip
		c := Challenge{User: alice, Phone: num, Purpose: Verify, LimitKey: "login alice " + ip}
		// Two codes without one used, the second sent 61 s ago: its wait
		// (60 s) is over, and the next one's is 120 s.
		old, _ := json.Marshal(map[string]any{"phone": s.numberID(num), "channel": "sms",
			"until": clk.now().Add(-time.Second), "resends": 1})
		key := store.Key("cooldown", realm, c.LimitKey, "ip", IPKey(ip)) // as c6192dc built it
		if err := s.Store.Put(ctx, key, old, time.Hour); err != nil {
			t.Fatal(err)
		}
		sent := out.sentCount()
		got, err := s.Start(ctx, at, c)
		if err != nil || out.sentCount() != sent+1 {
			t.Fatalf("from %s: %v, %d sent", ip, err, out.sentCount()-sent)
		}
		if wait := got.ResendAt.Sub(clk.now()); wait != 120*time.Second {
			t.Fatalf("from %s, the code after an old streak of two waits %s; want 120 s", ip, wait)
		}
		clk.advance(61 * time.Second)
		if _, err := s.Start(ctx, at, c); !errors.As(err, new(*CooldownError)) {
			t.Fatalf("from %s, 61 s into a 120 s wait: %v; want a cooldown", ip, err)
		}
	}
}

// ttlLog wraps a store and notes the ttl of the last write of each key:
// a Put, or an Update (a claim's, made in turn on a store that claims
// nothing itself, as this wrapper does not).
type ttlLog struct {
	store.Store
	ttl map[string]time.Duration
}

func (l *ttlLog) Put(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	l.ttl[key] = ttl
	return l.Store.Put(ctx, key, value, ttl)
}

func (l *ttlLog) Update(ctx context.Context, key string, change func([]byte, bool) ([]byte, time.Duration, error)) error {
	return l.Store.Update(ctx, key, func(old []byte, found bool) ([]byte, time.Duration, error) {
		v, ttl, err := change(old, found)
		if err == nil {
			l.ttl[key] = ttl
		}
		return v, ttl, err
	})
}

// TestAnUndoneSendPutsTheBaseWaitBackAsWritten: a login form's base wait
// (the record shared by everyone who types the name) that a send undid
// is put back kept as long as it was written for: to the end of its wait.
// Before, it was put back with the doubling's hour of memory added, as
// the client's streak is (20 s left, kept 1 h 0 min 20 s).
func TestAnUndoneSendPutsTheBaseWaitBackAsWritten(t *testing.T) {
	t.Parallel()
	s, out, clk := newService(t)
	ttls := &ttlLog{Store: s.Store, ttl: map[string]time.Duration{}}
	s.Store = ttls
	ctx := context.Background()
	at := loginForm
	at.Blind = false // the gateway's failure is answered, and the send undone
	c := Challenge{User: alice, Phone: num, Purpose: Verify, LimitKey: "login alice"}
	if _, err := s.Start(ctx, at, c); err != nil {
		t.Fatal(err)
	}
	base := s.cooldownKey(at, &c)
	if ttls.ttl[base] != 30*time.Second {
		t.Fatalf("the base wait written kept for %s; want 30 s", ttls.ttl[base])
	}
	clk.advance(10 * time.Second)
	out.err = providers.NotSent(errors.New("the gateway is down"))
	c.Phone = "+14155550100" // another number: no wait
	if _, err := s.Start(ctx, at, c); !errors.As(err, new(*SendError)) {
		t.Fatalf("a send the gateway failed: %v", err)
	}
	if ttls.ttl[base] != 20*time.Second {
		t.Fatalf("the base wait put back kept for %s; want the 20 s left of it", ttls.ttl[base])
	}
	if streak := ttls.ttl[streakKey(at, &c)]; streak != 20*time.Second+cooldownMemory {
		t.Fatalf("the streak put back kept for %s; want the 20 s left of its wait and the doubling's memory", streak)
	}
}
