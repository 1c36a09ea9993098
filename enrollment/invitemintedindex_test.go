package enrollment_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

func mintedAdmin(st store.Store, logger *zap.Logger) *enrollment.Admin {
	_, _, adm := enrollment.New(&enrollment.Core{Store: st, CodeKey: []byte("0123456789abcdef0123456789abcdef"), Now: time.Now, Logger: logger}, enrollment.Challenges{})
	return adm
}

// TestAnUnreadableMintedIndexIsMended (review35 finding 2): an admin's
// index of the invites she minted at the console that cannot be decoded
// blocked, for as long as it lasted (up to 30 days), every end of them
// (her revoke, reset, sign-out everywhere answered an error) and every
// mint of hers. Now the end logs it (naming no token), removes it and
// succeeds, and a mint logs it and starts it again; the next end ends
// the invite that mint indexed. On Badger and Redis.
func TestAnUnreadableMintedIndexIsMended(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		core, logs := observer.New(zap.InfoLevel)
		logger := zap.New(core)
		adm := mintedAdmin(st, logger)
		garbage := []byte(`{"not":"a list"}`)
		if err := st.Put(ctx, endkeys.MintedInvites("r", "vera"), garbage, time.Hour); err != nil {
			t.Fatal(err)
		}
		end1, err1 := session.EndMinted(ctx, st, "r", "vera", time.Now(), logger)
		end2, err2 := session.EndMinted(ctx, st, "r", "vera", time.Now(), logger)
		if err1 != nil || err2 != nil || end1.Ended != 0 || end2.Ended != 0 {
			t.Fatalf("the ends of an unreadable index: %v %v, then %v %v; want none ended, no error", end1, err1, end2, err2)
		}
		if _, err := st.Get(ctx, endkeys.MintedInvites("r", "vera")); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the unreadable index after the end: %v; want it removed", err)
		}
		if err := st.Put(ctx, endkeys.MintedInvites("r", "vera"), garbage, time.Hour); err != nil {
			t.Fatal(err)
		}
		token, err := adm.NewInviteBy(ctx, "r", "walt", "vera", time.Hour)
		if err != nil {
			t.Fatalf("her mint on an unreadable index: %v", err)
		}
		if end, err := session.EndMinted(ctx, st, "r", "vera", time.Now(), logger); err != nil || end.Ended != 1 {
			t.Errorf("the end after her mint: %v %v; want walt's invite ended", end, err)
		}
		if n := logs.FilterMessageSnippet("could not be read").Len(); n != 2 {
			t.Errorf("%d logs of the unreadable index; want 2 (the end's, the mint's): %v", n, logs.All())
		}
		for _, e := range logs.All() {
			if strings.Contains(fmt.Sprint(e.Message, e.ContextMap()), token) {
				t.Errorf("a log names the token: %v", e)
			}
		}
	})
}

// TestTheCapCountsOnlyOpenInvites (review35 finding 3): the cap of
// endkeys.MaxMinted counted every invite minted and not yet expired: one
// user's invite sent again MaxMinted times (one live link) refused her
// next mint for anyone, saying "wait until some are used", untrue. Now a
// mint for a user drops that user's earlier entries, and at the cap those
// used (endkeys.InviteSpent) or replaced (the user's newest names another)
// leave; while all are open, the mint is refused. On Badger and Redis.
func TestTheCapCountsOnlyOpenInvites(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		adm := mintedAdmin(st, nil)
		const week = 7 * 24 * time.Hour
		for i := range endkeys.MaxMinted {
			if _, err := adm.NewInviteBy(ctx, "r", "walt", "vera", week); err != nil {
				t.Fatalf("walt's invite again, %d: %v", i, err)
			}
		}
		if _, err := adm.NewInviteBy(ctx, "r", "xena", "vera", week); err != nil {
			t.Fatalf("one live invite of hers (walt's newest), and her mint for xena: %v", err)
		}

		// Full of open invites (written as a mint would), then one used, one replaced.
		made := time.Now()
		list := make([]endkeys.Minted, endkeys.MaxMinted)
		for i := range list {
			list[i] = endkeys.Minted{User: fmt.Sprint("u", i), ID: fmt.Sprint("id", i), Made: made, Expires: made.Add(week)}
		}
		raw, _ := json.Marshal(list)
		if err := st.Put(ctx, endkeys.MintedInvites("r", "nina"), raw, week); err != nil {
			t.Fatal(err)
		}
		if _, err := adm.NewInviteBy(ctx, "r", "yara", "nina", week); !errors.Is(err, enrollment.ErrTooManyMinted) {
			t.Fatalf("her mint with %d open: %v; want ErrTooManyMinted", endkeys.MaxMinted, err)
		}
		if err := st.Put(ctx, endkeys.InviteSpent("r", "u7", made.UnixNano()), []byte("1"), week); err != nil {
			t.Fatal(err)
		}
		if _, err := adm.NewInviteBy(ctx, "r", "yara", "nina", week); err != nil {
			t.Errorf("her mint once u7 used theirs: %v", err)
		}
		if err := st.Put(ctx, endkeys.LatestInvite("r", "u8"), []byte(`{"id":"another"}`), week); err != nil {
			t.Fatal(err)
		}
		if _, err := adm.NewInviteBy(ctx, "r", "zoe", "nina", week); err != nil {
			t.Errorf("her mint once u8's was replaced: %v", err)
		}
		if _, err := adm.NewInviteBy(ctx, "r", "abe", "nina", week); !errors.Is(err, enrollment.ErrTooManyMinted) {
			t.Errorf("her mint with %d open again: %v; want ErrTooManyMinted", endkeys.MaxMinted, err)
		}
	})
}
