package enrollment

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
)

// An invite lives by the gate's clock, from minting to expiry: a clock
// that is not the machine's (a test's, a gate's own) decides both when it
// was made and when it ended.
func TestAnInviteExpiresByTheClock(t *testing.T) {
	st, closeDB, err := store.OpenBadger(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = closeDB() })
	// Days before the machine's time: an invite minted or judged by
	// time.Now would be dead at once, or live past its hour.
	clk := &clock{t: time.Now().Add(-72 * time.Hour).Truncate(time.Second)}
	_, _, admin := New(&Core{Store: st, CodeKey: []byte("0123456789abcdef0123456789abcdef"), Now: clk.now}, Challenges{})
	ctx := context.Background()
	token, err := admin.NewInvite(ctx, realm, alice, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := admin.PeekInvite(ctx, realm, token)
	if err != nil || inv.User != alice || !inv.Made.Equal(clk.t) || !inv.Expires.Equal(clk.t.Add(time.Hour)) {
		t.Fatalf("a new invite: %+v, %v; want alice's, made %v, ending an hour later", inv, err, clk.t)
	}
	clk.advance(time.Hour)
	if _, err := admin.TakeInvite(ctx, realm, token); !errors.Is(err, ErrInvite) {
		t.Fatalf("an invite an hour old by the clock: %v, want ErrInvite", err)
	}
}
