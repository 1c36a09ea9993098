package signin

import (
	"context"

	"testing"

	"github.com/smsgate/caddy-smsgate/session"
)

// TestGivesTheRealmsNumbersOnceStarted: before the config's start a gate
// gives a provisioned user its own `user` line's number; once started,
// the realm's (GiveNumbers), its own among them; a mark of another number,
// of a user it gives none, or no mark at all, is given by none.
func TestGivesTheRealmsNumbersOnceStarted(t *testing.T) {
	t.Parallel()
	s := newService(t, FirstFactor{})
	mark := func(e164 string) string { return session.NumberMark(s.Devices.NumberID(e164)) }
	own, other := mark("+14155552671"), mark("+447400123456")
	if !s.Gives("carol", own) || s.Gives("carol", other) || s.Gives("dave", own) {
		t.Error("before the start: the gate's own line only")
	}
	s.GiveNumbers(map[string][]string{"carol": {"+14155552671", "+447400123456"}})
	if !s.Gives("carol", own) || !s.Gives("carol", other) || s.Gives("dave", own) {
		t.Error("once started: the realm's numbers")
	}
	if s.Gives("carol", s.Devices.NumberID("+14155552671")) || s.Gives("carol", session.NumberMark("")) {
		t.Error("a number's hash without the mark, or an empty mark, given")
	}
	s.GiveNumbers(map[string][]string{"carol": {"+447400123456"}})
	if s.Gives("carol", own) {
		t.Error("a number no gate of the realm gives any more, given")
	}
}

// TestAPhoneAnotherGateGivesIsHersHere (attack34 F2): at a gate of the
// realm without carol's line (an open first factor's), the number another
// gate gives her is her phone: Next sends her, and an invite's flow, to
// the code, not to enroll; HasDevice, DeviceOf, DevicesOf, a login form's
// Lookup and ConfigPhone (her devices page's row, the rule that keeps her
// one device) say so; no first enrollment is let in (mayEnroll). Her
// enrolled phone, where she has one, stays the one she signs in with.
func TestAPhoneAnotherGateGivesIsHersHere(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newService(t, FirstFactor{Open: true})
	s.Users, s.Phones = nil, nil // the portal: no `user` lines
	s.GiveNumbers(map[string][]string{"carol": {"+14155552671", "+447400123456"}})
	if step, err := s.Next(ctx, "r", &Flow{}, "carol"); err != nil || step != Verify {
		t.Errorf("Next = %v, %v; want verify", step, err)
	}
	if step, err := s.Next(ctx, "r", &Flow{User: "carol", Invitee: "carol"}, "carol"); err != nil || step != Verify {
		t.Errorf("an invite's Next = %v, %v; want verify", step, err)
	}
	if has, err := s.HasDevice(ctx, "r", "carol"); !has || err != nil {
		t.Errorf("HasDevice = %v, %v", has, err)
	}
	if d, err := s.DeviceOf(ctx, "r", "carol"); err != nil || d == nil || d.Phone != "+14155552671" || d.ID != "" {
		t.Errorf("DeviceOf = %+v, %v", d, err)
	}
	if s.ConfigPhone("carol") != "+14155552671" || s.ConfigPhone("dave") != "" {
		t.Errorf("ConfigPhone: %q, dave's %q", s.ConfigPhone("carol"), s.ConfigPhone("dave"))
	}
	if s.mayEnroll(&Flow{}, "carol") || s.mayEnroll(&Flow{User: "carol", Invitee: "carol"}, "carol") || !s.mayEnroll(&Flow{}, "dave") {
		t.Error("mayEnroll: carol enrolls a first phone, or dave does not")
	}
	if has, err := s.HasDevice(ctx, "r", "dave"); has || err != nil {
		t.Errorf("dave, whom no gate gives a phone: HasDevice = %v, %v", has, err)
	}
	form := newService(t, LoginForm{})
	form.Users, form.Phones = nil, nil
	form.GiveNumbers(map[string][]string{"carol": {"+14155552671"}})
	if user, e164, err := form.Lookup(ctx, "r", "carol"); user != "carol" || e164 != "+14155552671" || err != nil {
		t.Errorf("a login form's Lookup = %q, %q, %v", user, e164, err)
	}
	if _, _, err := s.Devices.AddClaimed(ctx, "r", "carol", "+14155550100", "", ""); err != nil {
		t.Fatal(err)
	}
	if _, d, err := s.DevicesOf(ctx, "r", "carol"); err != nil || d == nil || d.Phone != "+14155550100" {
		t.Errorf("DevicesOf with a phone enrolled = %+v, %v; want the enrolled one", d, err)
	}
}
