package enrollment

import (
	"context"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
)

// TestANoticeNotSentSpendsNoneOfTheHour: a notice none of whose texts the
// budget of texts to enrolled numbers lets out gives its slot of the
// user's hour back. Before, a full global_enrolled (an hour of sign-ins,
// or strangers draining it) spent the user's notices with nothing sent, so
// once it had room again the user's phones heard of no change that hour.
// The one that takes the hour's last slot says so (Last), and no other.
func TestANoticeNotSentSpendsNoneOfTheHour(t *testing.T) {
	st, closeDB, err := store.OpenBadger(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = closeDB() })
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
