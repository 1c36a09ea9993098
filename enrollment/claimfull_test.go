package enrollment

import (
	"context"
	"fmt"
	"testing"

	"github.com/smsgate/caddy-smsgate/words"
)

// TestAFullListGivesTheNumberBack: in verify-only mode, a phone refused
// because the user's list is full (device.max) leaves its number free for
// another user. Before, AddClaimed bound the number to the user and kept
// it bound though no phone of theirs held it: nobody else could enroll it.
func TestAFullListGivesTheNumberBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, _, _ := limited(t, Limits{})
	c.PhoneKey = []byte("a phone-hashing key of 32 bytes or more")
	s := c.Devices
	for i := range MaxDevices {
		if _, _, err := s.AddClaimed(ctx, realm, alice, fmt.Sprintf("+1415555%04d", 1000+i), "", ""); err != nil {
			t.Fatal(err)
		}
	}
	_, _, err := s.AddClaimed(ctx, realm, alice, num, "", "")
	if w, _ := words.Of(err); w.ID != "device.max" {
		t.Fatalf("an eleventh phone: %v; want device.max", err)
	}
	if owner, err := s.Owner(ctx, realm, num); err != nil || owner != "" {
		t.Fatalf("the number refused is bound to %q (%v); want none", owner, err)
	}
	if _, _, err := s.AddClaimed(ctx, realm, "bob", num, "", ""); err != nil {
		t.Fatalf("another user enrolling the number: %v", err)
	}
}

// TestANewBindingIsOneRoundTrip: in verify-only mode, binding a number no
// one holds is the put-if-absent alone; only a number already bound is
// read back, to tell the user's own binding (kept) from another user's
// (refused). Before, every binding was read back.
func TestANewBindingIsOneRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, _, _ := limited(t, Limits{})
	c.PhoneKey = []byte("a phone-hashing key of 32 bytes or more")
	st := &countingStore{Store: c.Store}
	c.Store = st
	for _, b := range []struct {
		user  string
		bound bool
		calls int64
	}{{alice, true, 1}, {alice, true, 2}, {"bob", false, 2}} {
		st.calls.Store(0)
		if ok, err := c.Devices.claim(ctx, realm, b.user, num); err != nil || ok != b.bound || st.calls.Load() != b.calls {
			t.Errorf("%s binding the number: %v (%v) in %d calls to the store; want %v in %d", b.user, ok, err, st.calls.Load(), b.bound, b.calls)
		}
	}
}
