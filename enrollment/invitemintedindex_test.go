package enrollment_test

import (
	"context"
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
