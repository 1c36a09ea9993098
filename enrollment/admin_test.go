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
	t.Parallel()
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

// A phone the admin's tools set is named as any unnamed phone is, in
// words ("Phone 1"), not by an English word of the code's own.
func TestASetPhoneIsNamedInWords(t *testing.T) {
	t.Parallel()
	s, _, _ := newService(t)
	if err := s.Devices.Set(context.Background(), realm, alice, num); err != nil {
		t.Fatal(err)
	}
	d, err := s.Devices.Default(context.Background(), realm, alice)
	if want := s.defaultName("name.phone", "", 1); err != nil || d == nil || d.Name != want {
		t.Fatalf("the set phone: %+v, %v; want it named %q", d, err, want)
	}
}
