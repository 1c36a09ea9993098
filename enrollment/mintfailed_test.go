package enrollment_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// failInvite fails the Put of an invite (its key's prefix "invite/"),
// once it has run between: the store's failure of a mint's invite write.
type failInvite struct {
	store.Store
	between func()
}

func (s *failInvite) Put(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if strings.HasPrefix(key, "invite/") && s.between != nil {
		s.between()
		return errors.New("the store failed the invite's write")
	}
	return s.Store.Put(ctx, key, value, ttl)
}

// TestAMintWhoseInviteFailedLeavesNoEntry (rfix37's window (b),
// invites38): a mint's entry dropped while it was in flight (another
// instance, its clock over an hour ahead, read it as a dead mint's at the
// cap), then its invite's write failed. Its mint put the entry back, done
// (rfix37: no clock trusted with a link), though no link was handed out
// and its invite never written: it counted against the 500 until it
// expired (up to 30 days), and its user, whose first invite it was, has
// no newest record that would close it. Now a mint whose invite's write
// failed takes its entry away (none put back), so her next mint at the
// cap is made. Failed without the fix (her mint at the cap refused), on
// Badger and Redis.
func TestAMintWhoseInviteFailedLeavesNoEntry(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		const week = 7 * 24 * time.Hour
		made := time.Now()
		list := make([]endkeys.Minted, endkeys.MaxMinted-1) // open: done, their users' newest naming none
		for i := range list {
			list[i] = endkeys.Minted{User: fmt.Sprint("u", i), ID: fmt.Sprint("id", i), Made: made, Expires: made.Add(week)}
		}
		raw, _ := json.Marshal(list)
		if err := st.Put(ctx, endkeys.MintedInvites("r", "vera"), raw, week); err != nil {
			t.Fatal(err)
		}
		failing := &failInvite{Store: st, between: func() {
			// the other instance drops mal's entry, pending, as a dead mint's
			if err := st.Put(ctx, endkeys.MintedInvites("r", "vera"), raw, week); err != nil {
				t.Fatal(err)
			}
		}}
		if _, err := mintedAdmin(failing, nil).NewInviteBy(ctx, "r", "mal", "vera", week); err == nil {
			t.Fatal("mal's mint whose invite's write failed: no error")
		}
		got, err := st.Get(ctx, endkeys.MintedInvites("r", "vera"))
		var left []endkeys.Minted
		if err == nil {
			err = json.Unmarshal(got, &left)
		}
		if err != nil {
			t.Fatal(err)
		}
		if i := slices.IndexFunc(left, func(m endkeys.Minted) bool { return m.User == "mal" }); i >= 0 {
			t.Errorf("vera's index after mal's failed mint holds its entry %+v; want none (no link was made)", left[i])
		}
		if _, err := mintedAdmin(st, nil).NewInviteBy(ctx, "r", "zed", "vera", week); err != nil {
			t.Errorf("her mint with %d open and mal's failed: %v; want it made", endkeys.MaxMinted-1, err)
		}
	})
}

// TestAMintWhoseInviteFailedTakesItsEntryAway: the same failure with the
// entry in place (no other instance). It was marked done and counted until
// it expired; now it goes. Failed without the fix, on Badger and Redis.
func TestAMintWhoseInviteFailedTakesItsEntryAway(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		const week = 7 * 24 * time.Hour
		failing := &failInvite{Store: st, between: func() {}}
		if _, err := mintedAdmin(failing, nil).NewInviteBy(ctx, "r", "mal", "vera", week); err == nil {
			t.Fatal("mal's mint whose invite's write failed: no error")
		}
		if raw, err := st.Get(ctx, endkeys.MintedInvites("r", "vera")); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("vera's index after her only mint failed: %s %v; want none", raw, err)
		}
		if _, err := mintedAdmin(st, nil).NewInviteBy(ctx, "r", "mal", "vera", week); err != nil {
			t.Fatal(err)
		}
	})
}
