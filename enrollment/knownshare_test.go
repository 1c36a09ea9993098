package enrollment

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestAKnownUsersShareAtTheDefaults measures what SECURITY.md says of the
// known browsers' total of passkey sign-ins begun at a login form
// (strangers-known, 5,000 an hour): one user's known-browser cookie, sent
// from ever new addresses, begins her share (known_user, 50 an hour) and
// no more, whatever the addresses (before the share: the whole total, from
// 84 IPv4 addresses); the share's refusals count in no total; it takes 100
// users' cookies to spend the total, and then the next user is refused.
// On Badger and Redis, at the default limits.
func TestAKnownUsersShareAtTheDefaults(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		l, err := Configured(nil, 0, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		// Just past the start of an hour: every count in one window.
		now := time.Date(2026, 1, 1, 10, 0, 1, 0, time.UTC)
		s := &Strangers{IP: l.StrangerIP, Net: l.StrangerNet, Total: l.Strangers, KnownUser: l.KnownUser, Store: st, Now: func() time.Time { return now }}
		ctx := context.Background()
		begin := func(user string, address int) string {
			err := s.AdmitKnown(ctx, "r", fmt.Sprintf("10.%d.%d.%d", address>>16&255, address>>8&255, address&255), user)
			var limit *LimitError
			if err != nil && !errors.As(err, &limit) {
				t.Fatalf("%s's passkey sign-in: %v", user, err)
			}
			if err != nil {
				return limit.Limit
			}
			return ""
		}
		// One user from 200 addresses, five begun at each.
		admitted := 0
		for a := range 200 {
			for range 5 {
				switch refused := begin("mallory", a); refused {
				case "":
					admitted++
				case "known_user":
				default:
					t.Fatalf("mallory's passkey sign-in from her %d-th address: refused by %s", a+1, refused)
				}
			}
		}
		if admitted != 50 {
			t.Errorf("one user's cookie from 200 addresses: %d passkey sign-ins begun, want her share's 50", admitted)
		}
		// Users, each beginning until refused: the total holds 100 shares.
		address, users := 1000, 0
		for u := 0; ; u++ {
			user := fmt.Sprint("user", u)
			first := begin(user, address)
			if first == "strangers" {
				break
			}
			if first != "" {
				t.Fatalf("%s's first passkey sign-in: refused by %s", user, first)
			}
			users++
			for refused := ""; refused == ""; {
				address++ // no address's tally in the way
				refused = begin(user, address)
				if refused != "" && refused != "known_user" && refused != "strangers" {
					t.Fatalf("%s: refused by %s", user, refused)
				}
			}
			if users > 200 {
				t.Fatal("the total never refused")
			}
		}
		// Mallory's share plus 99 whole users' shares is 5,000: the 100th
		// user to begin one (counting mallory) is the last admitted.
		if users+1 != 100 {
			t.Errorf("users who spent the total with mallory: %d, want 99 besides her (5,000 / 50)", users)
		}
	})
}

// TestTheKnownUsersShareIsAHundredthOfTheTotal: where a config sets no
// known_user, a user's share is a hundredth of the strangers' total it
// sets, in its window, at least one; one it sets is its own.
func TestTheKnownUsersShareIsAHundredthOfTheTotal(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		rates map[string]Rate
		want  Rate
	}{
		{nil, Rate{50, time.Hour}},
		{map[string]Rate{"strangers": {600, 24 * time.Hour}}, Rate{6, 24 * time.Hour}},
		{map[string]Rate{"strangers": {6, time.Hour}}, Rate{1, time.Hour}},
		{map[string]Rate{"strangers": {0, 0}}, Rate{50, time.Hour}},
		{map[string]Rate{"strangers": {600, time.Hour}, "known_user": {100, time.Minute}}, Rate{100, time.Minute}},
		{map[string]Rate{"known_user": {0, 0}}, Rate{}},
	} {
		l, err := Configured(c.rates, 0, 0, 0)
		if err != nil || l.KnownUser != c.want {
			t.Errorf("%v: known_user %v, %v; want %v", c.rates, l.KnownUser, err, c.want)
		}
	}
	if got := knownUserOf(DefaultLimits.Strangers); got != DefaultLimits.KnownUser {
		t.Errorf("the default share %v is not a hundredth of the default total's %v", DefaultLimits.KnownUser, got)
	}
}
