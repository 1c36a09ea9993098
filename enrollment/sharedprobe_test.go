package enrollment

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// betweenSteps runs between returns, after each window step (Slide,
// Window, Unslide) a request makes while armed: another request at that
// moment of the first's store work.
type betweenSteps struct {
	store.Store
	armed bool
	then  func()
}

func (w *betweenSteps) step() {
	if w.armed {
		w.armed = false
		w.then()
		w.armed = true
	}
}

func (w *betweenSteps) Slide(ctx context.Context, key, id string, limit int, window time.Duration, now time.Time) (bool, time.Duration, error) {
	ok, wait, err := w.Store.Slide(ctx, key, id, limit, window, now)
	w.step()
	return ok, wait, err
}

func (w *betweenSteps) Window(ctx context.Context, key string, span time.Duration, now time.Time) (int, time.Duration, error) {
	n, wait, err := w.Store.Window(ctx, key, span, now)
	w.step()
	return n, wait, err
}

func (w *betweenSteps) Unslide(ctx context.Context, key, id string) error {
	err := w.Store.Unslide(ctx, key, id)
	w.step()
	return err
}

// TestAKnownBrowsersLookAtTheOldAddressWindowHoldsNoSlot (review40 R1):
// the previous release's shared known window at an address holds 2 of
// ip 3 (room for one). While alice's known browser names herself there
// (CountNaming), other known users' browsers at the address do the same
// between each of her store steps: each is admitted, his own window empty
// and the old one not full, and the old window holds its 2 entries at
// every step and after. Before, her check slid a probe into the old
// window and took it out in a second round trip: between the two, dave
// was refused "ip" (59 minutes), and a process dying there left it in.
func TestAKnownBrowsersLookAtTheOldAddressWindowHoldsNoSlot(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		alices := Scope{Realm: realm, Host: host, IP: "198.51.100.7", Known: true}
		old := alices.sharedKnownWindow("ip")
		w := &betweenSteps{Store: st}
		s, _, clk := newServiceOn(t, w)
		s.Limits.IP = Rate{3, time.Hour}
		for i := range 2 {
			if _, _, err := st.Slide(ctx, old, fmt.Sprint("old", i), 3, time.Hour, clk.now().Add(-time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		oldHolds := func(when string) {
			t.Helper()
			if n, _, err := st.Window(ctx, old, time.Hour, clk.now()); err != nil || n != 2 {
				t.Fatalf("the previous release's window %s: %d entries (%v), want its 2", when, n, err)
			}
		}
		others := 0
		w.then = func() {
			oldHolds("during alice's naming")
			others++
			if err := s.CountNaming(ctx, alices, fmt.Sprint("dave", others)); errors.As(err, new(*LimitError)) {
				t.Errorf("dave%d's known browser, his own window empty and the previous release's 2 of 3: %v", others, err)
			} else if err != nil {
				t.Fatal(err)
			}
		}
		w.armed = true
		if err := s.CountNaming(ctx, alices, alice); err != nil {
			t.Fatalf("alice: %v", err)
		}
		w.armed = false
		if others == 0 {
			t.Fatal("no step of alice's to come between")
		}
		oldHolds("after")
		// Full, it still refuses a known browser there, with the wait until
		// its oldest entry leaves.
		if _, _, err := st.Slide(ctx, old, "old2", 3, time.Hour, clk.now()); err != nil {
			t.Fatal(err)
		}
		var limit *LimitError
		if err := s.CountNaming(ctx, alices, "erin"); !errors.As(err, &limit) || limit.Limit != "ip" || limit.Wait != 59*time.Minute {
			t.Fatalf("erin's known browser, the previous release's window full: %v, want ip 59m", err)
		}
	})
}
