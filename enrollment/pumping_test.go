package enrollment

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/pumping"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// guarded is a service with the pumping guard on (its defaults), on a
// Badger store or a real redis-server, and a log of the pauses it began.
func guarded(t *testing.T, st store.Store) (*Challenges, *outbox, *clock, *pauses) {
	s, out, clk := newServiceOn(t, st)
	heard := &pauses{}
	s.Guard = &pumping.Guard{Settings: pumping.Defaults, Store: s.Store, Now: clk.now, Paused: heard.add}
	return s, out, clk, heard
}

type pauses struct {
	mu   sync.Mutex
	list []pumping.Pause
}

func (p *pauses) add(_ string, ps pumping.Pause) {
	p.mu.Lock()
	p.list = append(p.list, ps)
	p.mu.Unlock()
}

func (p *pauses) len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.list)
}

// guardStores are the stores the guard's tests run on: Badger, and a real
// redis-server (two services on it are two instances).
func guardStores(t *testing.T) map[string]func(t *testing.T) store.Store {
	return map[string]func(t *testing.T) store.Store{
		"badger": func(*testing.T) store.Store { return nil },
		"redis":  func(t *testing.T) store.Store { return storetest.Redis(t) },
	}
}

// attacked is the i-th number of the range the tests attack (+44740…).
func attacked(i int) string { return fmt.Sprintf("+4474001%05d", i) }

func isPumping(err error) bool {
	var limit *LimitError
	return errors.As(err, &limit) && limit.Limit == "pumping"
}

// TestGuardPausesTheRangeOnly: new numbers in one prefix whose codes are
// never used are paused after the prefix's threshold; another country's
// sends and a user already enrolled there go on; the pause ends by
// itself, and the next one is twice as long.
func TestGuardPausesTheRangeOnly(t *testing.T) {
	t.Parallel()
	for name, open := range guardStores(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, out, clk, heard := guarded(t, open(t))
			ctx := context.Background()
			// The range's own user, enrolled before the attack: their codes are used.
			c, err := s.Start(ctx, sc, Challenge{User: "owner", Phone: attacked(99999), Purpose: Verify})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Check(ctx, sc, c, out.last(t).Code); err != nil {
				t.Fatal(err)
			}
			sent := 0
			for i := range 200 {
				_, err := s.Start(ctx, sc, Challenge{User: fmt.Sprint("bot", i), Phone: attacked(i), Purpose: Enroll})
				var limit *LimitError
				switch {
				case err == nil:
					sent++
				case !isPumping(err):
					t.Fatalf("send %d: %v", i, err)
				case !errors.As(err, &limit) || !limit.Adding || limit.Words().ID != "limit.pumping_adding":
					// A first phone: no other way to sign in (walk38).
					t.Fatalf("send %d, a first phone's, refused as a sign-in's is (%+v): %v", i, limit, err)
				}
			}
			// The owner's send and code count too: the range's 20th send (the
			// 19th bot's) makes 20 codes in the window, 1 used, and pauses it.
			if sent != pumping.Defaults.PrefixMinSends-2 || heard.len() != 1 {
				t.Fatalf("%d codes went to the range, %d pauses began; want %d and 1", sent, heard.len(), pumping.Defaults.PrefixMinSends-2)
			}
			if p := heard.list[0]; p.Place != "+44740" || p.Kind != pumping.Prefix || p.Until.Sub(p.Since) != time.Hour || p.Trips != 1 {
				t.Fatalf("pause: %+v", p)
			}
			// Elsewhere, sends go on.
			if _, err := s.Start(ctx, sc, Challenge{User: "carol", Phone: "+4915123000001", Purpose: Enroll}); err != nil {
				t.Fatalf("a send elsewhere: %v", err)
			}
			// The range's own user still gets codes, while they leave fewer
			// than Grace unused; then they are told. (Each past the last
			// one's wait, which doubles while none is used.)
			for i := range pumping.Defaults.Grace {
				clk.advance(5 * time.Minute)
				if _, err := s.Start(ctx, sc, Challenge{User: "owner", Phone: attacked(99999), Purpose: Verify}); err != nil {
					t.Fatalf("the enrolled owner's code %d in a paused range: %v", i+1, err)
				}
			}
			clk.advance(5 * time.Minute)
			_, err = s.Start(ctx, sc, Challenge{User: "owner", Phone: attacked(99999), Purpose: Verify})
			var limit *LimitError
			if !errors.As(err, &limit) || limit.Limit != "pumping" || limit.Wait <= 0 || limit.Wait > time.Hour || limit.Adding || limit.Words().ID != "limit.pumping" {
				t.Fatalf("the owner's code after %d unused: %v", pumping.Defaults.Grace, err)
			}
			// The pause ends by itself; the range trips again, for twice as long.
			clk.advance(time.Hour)
			if _, err := s.Start(ctx, sc, Challenge{User: "late", Phone: attacked(5000), Purpose: Enroll}); err != nil {
				t.Fatalf("after the pause: %v", err)
			}
			for i := range 100 {
				if _, err := s.Start(ctx, sc, Challenge{User: fmt.Sprint("bot2-", i), Phone: attacked(6000 + i), Purpose: Enroll}); err != nil && !isPumping(err) {
					t.Fatal(err)
				}
			}
			if heard.len() != 2 || heard.list[1].Trips != 2 || heard.list[1].Until.Sub(heard.list[1].Since) != 2*time.Hour {
				t.Fatalf("second pause: %+v", heard.list)
			}
			list, err := s.Guard.Pauses(ctx, realm)
			if err != nil || len(list) != 1 || list[0].Place != "+44740" || !list[0].Active(clk.now()) {
				t.Fatalf("Pauses = %+v, %v", list, err)
			}
		})
	}
}

// TestGuardSparesUsedCodes: a range whose codes are used is never paused,
// however many it is sent: here 120 codes in 20 minutes, six times the
// sends a prefix is judged from and more than twice a country's.
func TestGuardSparesUsedCodes(t *testing.T) {
	t.Parallel()
	s, out, clk, heard := guarded(t, nil)
	ctx := context.Background()
	for i := range 120 {
		c, err := s.Start(ctx, sc, Challenge{User: fmt.Sprint("u", i), Phone: attacked(i), Purpose: Enroll})
		if err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		if i%4 != 0 { // three in four codes come back
			if _, err := s.Check(ctx, sc, c, out.last(t).Code); err != nil {
				t.Fatal(err)
			}
		}
		clk.advance(10 * time.Second)
	}
	if heard.len() != 0 {
		t.Fatalf("pauses: %+v", heard.list)
	}
}

// TestGuardSharedByInstances: two services on one redis-server count
// into the same windows; a pause one starts refuses the other's sends.
func TestGuardSharedByInstances(t *testing.T) {
	t.Parallel()
	addr, db := redistest.Shared(t) // both instances'
	open := func() store.Store {
		st, closeRedis, err := store.OpenRedis(&store.Redis{Addresses: []string{addr}, DB: db})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = closeRedis() })
		return st
	}
	a, _, clk, heardA := guarded(t, open())
	b, _, _, heardB := guarded(t, open())
	b.Now, b.Guard.Now = clk.now, clk.now
	ctx := context.Background()
	sent := 0
	for i := range 100 {
		s := a
		if i%2 == 1 {
			s = b
		}
		if _, err := s.Start(ctx, sc, Challenge{User: fmt.Sprint("bot", i), Phone: attacked(i), Purpose: Enroll}); err == nil {
			sent++
		} else if !isPumping(err) {
			t.Fatal(err)
		}
	}
	if sent != pumping.Defaults.PrefixMinSends-1 || heardA.len()+heardB.len() != 1 {
		t.Fatalf("two instances sent %d to the range and began %d+%d pauses", sent, heardA.len(), heardB.len())
	}
}

// TestGuardResumesOnTheAdminsWord: Resume ends a pause at once and starts
// the window afresh; a place that is not paused is an error.
func TestGuardResumesOnTheAdminsWord(t *testing.T) {
	t.Parallel()
	s, _, _, heard := guarded(t, nil)
	ctx := context.Background()
	flood := func(from int) (sent int) {
		for i := range 50 {
			if _, err := s.Start(ctx, sc, Challenge{User: fmt.Sprint("bot", from+i), Phone: attacked(from + i), Purpose: Enroll}); err == nil {
				sent++
			} else if !isPumping(err) {
				t.Fatal(err)
			}
		}
		return sent
	}
	if n := flood(0); n != pumping.Defaults.PrefixMinSends-1 {
		t.Fatalf("%d sent before the pause", n)
	}
	if _, err := s.Guard.Resume(ctx, realm, "+49151"); !errors.Is(err, pumping.ErrNotPaused) {
		t.Fatalf("resuming a place that is not paused: %v", err)
	}
	p, err := s.Guard.Resume(ctx, realm, "+44740")
	if err != nil || p.ResumedBy != "admin" {
		t.Fatalf("Resume = %+v, %v", p, err)
	}
	// A fresh window: the threshold again, and a first pause's length.
	if n := flood(100); n != pumping.Defaults.PrefixMinSends-1 || heard.len() != 2 || heard.list[1].Trips != 1 {
		t.Fatalf("after the resume %d were sent; pauses %+v", n, heard.list)
	}
}

// TestGuardAtALoginFormIsBlind: after a login form (Blind), a paused
// place's refusal is answered as a decoy's: no error, no code, the reason
// for the admin's log only.
func TestGuardAtALoginFormIsBlind(t *testing.T) {
	t.Parallel()
	s, out, _, _ := guarded(t, nil)
	s.Guard.Grace = 0
	ctx := context.Background()
	for i := range 20 {
		if _, err := s.Start(ctx, sc, Challenge{User: fmt.Sprint("bot", i), Phone: attacked(i), Purpose: Enroll}); err != nil && !isPumping(err) {
			t.Fatal(err)
		}
	}
	before := len(out.sent)
	blind := sc
	blind.Blind = true
	c, err := s.Start(ctx, blind, Challenge{User: "carol", Phone: attacked(777), Purpose: Verify})
	if err != nil || !isPumping(c.Undelivered) || len(out.sent) != before {
		t.Fatalf("blind send in a paused range: %v, undelivered %v, %d sent", err, c.Undelivered, len(out.sent)-before)
	}
}
