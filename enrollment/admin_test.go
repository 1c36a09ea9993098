package enrollment

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
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

// A phone added unnamed keeps no name: its kind's default, numbered
// among the user's phones as it was added ("Phone 1", then "Phone 2"), is
// worded where it is shown, in the reader's language ("Telefon 2"), not
// in that of the page that added it (walk36's 4) nor by an English word
// of the code's own.
func TestAnUnnamedPhoneIsNamedInWords(t *testing.T) {
	t.Parallel()
	s, _, _ := newService(t)
	ctx := context.Background()
	for i, c := range []struct{ e164, lang, en, de string }{{num, "", "Phone 1", "Telefon 1"}, {"+447400123456", "de", "Phone 2", "Telefon 2"}} {
		id, added, err := s.Devices.AddIn(ctx, realm, alice, c.e164, "", c.lang)
		if err != nil || !added {
			t.Fatalf("adding %s: %v, added %v", c.e164, err, added)
		}
		d, err := s.Devices.ByID(ctx, realm, alice, id)
		if err != nil || d == nil || d.Name != "" || d.Nth != i+1 {
			t.Fatalf("the phone added unnamed (%q): %+v, %v; want no name, number %d", c.lang, d, err, i+1)
		}
		if en, de := d.Label(nil, "en"), d.Label(nil, "de"); en != c.en || de != c.de {
			t.Fatalf("the phone added unnamed (%q) reads %q and %q; want %q and %q", c.lang, en, de, c.en, c.de)
		}
	}
}

// TestALabelReadsAnOldDefault: a name as the release before wrote a
// default, in any language ("Phone 2", "Telefon 2"), reads as that
// default in the reader's; a name the user gave as it is, a number in it
// or not; an app's and a passkey's by their kinds.
func TestALabelReadsAnOldDefault(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		d      Device
		en, de string
	}{
		{Device{Name: "Phone 2"}, "Phone 2", "Telefon 2"},
		{Device{Name: "Telefon 2"}, "Phone 2", "Telefon 2"},
		{Device{Name: "Work phone"}, "Work phone", "Work phone"},
		{Device{Name: "Phone 2b"}, "Phone 2b", "Phone 2b"},
		{Device{Name: "Room 2"}, "Room 2", "Room 2"},
		{Device{Name: "Passkey 3", Kind: factor.Passkey}, "Passkey 3", "Passkey 3"},
		{Device{Name: "Phone 3", Kind: factor.Passkey}, "Phone 3", "Phone 3"},
		{Device{Kind: factor.App, Nth: 2}, "Authenticator app 2", "Authenticator-App 2"},
	} {
		if en, de := c.d.Label(nil, "en"), c.d.Label(nil, "de"); en != c.en || de != c.de {
			t.Errorf("%+v reads %q and %q; want %q and %q", c.d, en, de, c.en, c.de)
		}
	}
}
