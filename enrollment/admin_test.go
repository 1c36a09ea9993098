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

// A phone added unnamed is named in words, in the language of the page
// that added it and counted among the user's phones ("Phone 1", then
// "Telefon 2"), not by an English word of the code's own.
func TestAnUnnamedPhoneIsNamedInWords(t *testing.T) {
	t.Parallel()
	s, _, _ := newService(t)
	ctx := context.Background()
	for _, c := range []struct{ e164, lang, want string }{{num, "", "Phone 1"}, {"+447400123456", "de", "Telefon 2"}} {
		id, added, err := s.Devices.AddIn(ctx, realm, alice, c.e164, "", c.lang)
		if err != nil || !added {
			t.Fatalf("adding %s: %v, added %v", c.e164, err, added)
		}
		if d, err := s.Devices.ByID(ctx, realm, alice, id); err != nil || d == nil || d.Name != c.want {
			t.Fatalf("the phone added unnamed (%q): %+v, %v; want it named %q", c.lang, d, err, c.want)
		}
	}
}
