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
