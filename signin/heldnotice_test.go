package signin

import (
	"context"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/providers"
	"go.uber.org/zap"
)

// TestAHeldBackSwapNoticeIsToldLater: a swapped SIM is told once a day
// (FirstSwapNotice), but where its notice sent no text — the user's hour
// of notices spent (enrollment.MaxNotices), or the budget of texts to
// enrolled numbers full — the day's count is given back, and a refused
// send after the hour tells it. Before, the day's count was taken before
// the notice was held back, and the swap went untold until the next day.
func TestAHeldBackSwapNoticeIsToldLater(t *testing.T) {
	t.Parallel()
	s := newService(t, LoginForm{})
	now := time.Now()
	s.Devices.Now = func() time.Time { return now }
	notices := new(counted)
	s.Notices, s.Logger = notices, zap.NewNop()
	ctx := context.Background()
	sc := enrollment.Scope{Realm: "r", Host: "example.com", IP: "192.0.2.1"}
	for range enrollment.MaxNotices { // an intruder's changes, each told
		s.Devices.TakeNotice(ctx, sc.Realm, "carol", 1, now)
	}
	swapped := &providers.SIMSwapError{Within: 24 * time.Hour}
	s.simSwapped(ctx, sc, "carol", "+14155552671", "", swapped)
	if n := notices.take(); n != 0 {
		t.Fatalf("with the hour's notices spent, %d texts went out", n)
	}
	now = now.Add(time.Hour + time.Minute)
	s.simSwapped(ctx, sc, "carol", "+14155552671", "", swapped)
	if n := notices.take(); n != 1 {
		t.Fatalf("a refused send an hour later told the held-back swap in %d texts; want 1", n)
	}
	s.simSwapped(ctx, sc, "carol", "+14155552671", "", swapped)
	if n := notices.take(); n != 0 {
		t.Fatalf("told, the swap was told again %d times the same day", n)
	}
}
