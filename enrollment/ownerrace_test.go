package enrollment

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestANumbersOwnerFollowsItsPhone: in verify-only mode a number's owner
// record (who typed it signs in as; that no one else binds it) must stand
// while the user holds the phone, whatever ran beside the change that
// gave it to them: a removal of the number while the user adds it back (two
// tabs), and two enrollments of one number at once (two codes to it, both
// typed). On Badger and on a real Redis, in every interleaving of their
// reads of the owner record. (Before, the removal, or the enrollment that
// lost, released the owner record after the other had found it and
// written the phone: the user held the number with no owner behind it,
// so at a login form it named nobody, and another user could bind it.)
// The two enrollments are raced at their read of the user's devices:
// the owner record is read only by the one that finds it bound, after
// its phone is written, so raced there the loser never passed that read
// and its release after the winner's write went untried (96e03d8).
func TestANumbersOwnerFollowsItsPhone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	races := []struct {
		name string
		// before readies user's devices; a and b are the changes.
		before func(t *testing.T, s *Devices, user string)
		a, b   func(ctx context.Context, s *Devices, user string) error
		// devices races a and b at their reads of the user's devices, not
		// of the owner record.
		devices bool
	}{{
		name: "RemovalVsAddingBack",
		before: func(t *testing.T, s *Devices, user string) {
			if _, _, err := s.AddClaimed(ctx, realm, user, num, "", ""); err != nil {
				t.Fatal(err)
			}
		},
		a: func(ctx context.Context, s *Devices, user string) error {
			list, err := s.List(ctx, realm, user)
			if err != nil {
				return err
			}
			_, err = s.Remove(ctx, realm, user, list[0].ID, true)
			return err
		},
		b: func(ctx context.Context, s *Devices, user string) error {
			_, _, err := s.AddClaimed(ctx, realm, user, num, "", "")
			return err
		},
	}, {
		name:    "TwoEnrollments",
		before:  func(*testing.T, *Devices, string) {},
		devices: true,
		a: func(ctx context.Context, s *Devices, user string) error {
			_, err := s.addFirst(ctx, realm, user, num, "", nil)
			return nilIf(err, ErrEnrolled)
		},
		b: func(ctx context.Context, s *Devices, user string) error {
			_, err := s.addFirst(ctx, realm, user, num, "", nil)
			return nilIf(err, ErrEnrolled)
		},
	}}
	on := raceStores(t)
	for _, r := range races {
		on(r.name+"/", func(t *testing.T, st store.Store) {
			il := &storetest.Interleaver{Store: st}
			c, _, _ := raceService(t, il)
			c.PhoneKey = []byte("a phone-hashing key of 32 bytes or more")
			s := c.Devices
			runs, lost := 0, 0
			interleavings := il.Interleave(t, func() storetest.Pair {
				runs++
				user := fmt.Sprint(r.name, "-", runs)
				r.before(t, s, user)
				var errA, errB error
				key := ownerKey(realm, s.PhoneHMAC(num))
				if r.devices {
					key = deviceKey(realm, user)
				}
				return storetest.Pair{Key: key,
					A: func(ctx context.Context) { errA = r.a(ctx, s, user) },
					B: func(ctx context.Context) { errB = r.b(ctx, s, user) },
					Check: func() {
						if errA != nil || errB != nil {
							t.Fatalf("run %d: %v, %v", runs, errA, errB)
						}
						list, err := s.List(ctx, realm, user)
						if err != nil {
							t.Fatal(err)
						}
						owner, err := s.Owner(ctx, realm, num)
						if err != nil {
							t.Fatal(err)
						}
						holds := slices.ContainsFunc(list, func(d Device) bool { return s.Matches(&d, num) })
						if holds != (owner == user) {
							t.Logf("run %d: holds the number %v, its owner %q", runs, holds, owner)
							lost++
						}
						// Each run's number is free for the next.
						if err := s.RemoveAll(ctx, realm, user); err != nil {
							t.Fatal(err)
						}
					}}
			})
			if interleavings < 2 {
				t.Fatalf("%d interleavings: the changes do not both read the record raced", interleavings)
			}
			if lost > 0 {
				t.Errorf("in %d of %d interleavings the owner record did not follow the phone", lost, interleavings)
			}
		})
	}
}

// nilIf is err, or nil where it is target.
func nilIf(err, target error) error {
	if err == target {
		return nil
	}
	return err
}
