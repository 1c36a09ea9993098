package enrollment

import (
	"context"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestANoticeNotSentSpendsNoneOfTheHour: a notice none of whose texts the
// budget of texts to enrolled numbers lets out gives its slot of the
// user's hour back. Before, a full global_enrolled (an hour of sign-ins,
// or strangers draining it) spent the user's notices with nothing sent, so
// once it had room again the user's phones heard of no change that hour.
// The one that takes the hour's last slot says so (Last), and no other.
// On Badger and on a real redis-server.
func TestANoticeNotSentSpendsNoneOfTheHour(t *testing.T) {
	t.Parallel()
	onRaceStores(t, noticeNotSentSpendsNone)
}

func noticeNotSentSpendsNone(t *testing.T, st store.Store) {
	clk := &clock{t: time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)}
	c := &Core{Store: st, Now: clk.now, Limits: Limits{GlobalEnrolled: Rate{2, time.Minute}}}
	ctx := context.Background()
	if got := c.TakeNotice(ctx, realm, "bob", 2, clk.now()); got.Allowed != 2 || got.Limit != "" {
		t.Fatalf("bob's notice: %+v; want 2 texts", got)
	}
	for i := range MaxNotices {
		if got := c.TakeNotice(ctx, realm, alice, 1, clk.now()); got.Allowed != 0 || got.Limit != "global_enrolled" || got.Last {
			t.Fatalf("alice's notice %d with global_enrolled full: %+v; want none, global_enrolled", i+1, got)
		}
	}
	clk.advance(2 * time.Minute) // global_enrolled has room again, within alice's hour
	for i := range MaxNotices {
		got := c.TakeNotice(ctx, realm, alice, 1, clk.now())
		if want := (Notices{Allowed: 1, Last: i == MaxNotices-1}); got != want {
			t.Fatalf("alice's notice %d once global_enrolled has room: %+v; want %+v", i+1, got, want)
		}
		clk.advance(time.Minute)
	}
	if got := c.TakeNotice(ctx, realm, alice, 1, clk.now()); got.Allowed != 0 || got.Limit != "notices" || got.Last {
		t.Fatalf("alice's notice past the hour's: %+v; want none, notices", got)
	}
}

// TestANoticeTakesItsPhonesInOneRoundTrip: a notice to a user's
// MaxDevices phones costs Redis two round trips — the user's hour, then
// every phone's slot of global_enrolled in one pipeline — and a third
// only where nothing goes out (the hour's slot given back). Counted, not
// timed. Before, each phone's slot was a round trip of its own, in turn:
// 1+MaxDevices.
func TestANoticeTakesItsPhonesInOneRoundTrip(t *testing.T) {
	t.Parallel()
	st := redisStore(t)
	trips := &storetest.RoundTrips{}
	st.(*store.Redis).Client().AddHook(trips)
	clk := &clock{t: time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)}
	c := &Core{Store: st, Now: clk.now, Limits: Limits{GlobalEnrolled: Rate{MaxDevices + 1, time.Minute}}}
	ctx := context.Background()
	for _, want := range []struct {
		allowed int
		limit   string
		trips   int64
	}{
		{MaxDevices, "", 2},
		{1, "global_enrolled", 2}, // the window's last slot
		{0, "global_enrolled", 3}, // none: the hour's slot given back
	} {
		trips.N.Store(0)
		got := c.TakeNotice(ctx, realm, alice, MaxDevices, clk.now())
		if got.Allowed != want.allowed || got.Limit != want.limit || trips.N.Load() != want.trips {
			t.Errorf("a notice to %d phones: %+v in %d round trips; want %d allowed (%q) in %d",
				MaxDevices, got, trips.N.Load(), want.allowed, want.limit, want.trips)
		}
	}
}

// TestANoticeCountsThePreviousReleasesBudget: notices take slots of the
// realm's global_enrolled, which counts the sends the previous release
// counted in the store's one window (limit/global_enrolled/all) until
// they leave it, in every realm; another realm's notices do not spend
// this one's. Two old sends and a budget of 3: a notice to two phones gets
// one text, then none; another realm's gets one (the old sends count there
// too); once they are out of the window, it gets two (its own window
// holds one). Before, the budget was the store's: the other realm's notice
// got none, this realm's having spent it. On Badger and on a real
// redis-server.
func TestANoticeCountsThePreviousReleasesBudget(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		clk := &clock{t: time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)}
		ctx := context.Background()
		for _, id := range []string{"old1", "old2"} {
			if ok, _, err := st.Slide(ctx, store.Key("limit", "global_enrolled", "all"), id, 3, time.Hour, clk.now().Add(-10*time.Minute)); err != nil || !ok {
				t.Fatalf("the previous release's send: ok=%v err=%v", ok, err)
			}
		}
		c := &Core{Store: st, Now: clk.now, Limits: Limits{GlobalEnrolled: Rate{3, time.Hour}}}
		if got := c.TakeNotice(ctx, realm, "bob", 2, clk.now()); got.Allowed != 1 || got.Limit != "global_enrolled" {
			t.Fatalf("bob's notice to two phones beside two old sends: %+v; want one text", got)
		}
		if got := c.TakeNotice(ctx, realm, "carol", 1, clk.now()); got.Allowed != 0 || got.Limit != "global_enrolled" {
			t.Fatalf("carol's notice with the realm's budget spent: %+v; want none", got)
		}
		if got := c.TakeNotice(ctx, "other.example", "dave", 2, clk.now()); got.Allowed != 1 {
			t.Fatalf("dave's notice in another realm, beside the two old sends: %+v; want one text", got)
		}
		clk.advance(55 * time.Minute) // the old sends an hour old
		if got := c.TakeNotice(ctx, "other.example", "erin", 2, clk.now()); got.Allowed != 2 || got.Limit != "" {
			t.Fatalf("erin's notice in the other realm once the old sends left: %+v; want two (its own window holds dave's one)", got)
		}
	})
}
