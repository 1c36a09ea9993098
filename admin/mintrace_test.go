package admin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestAConsoleMintRacingTheRevokeOfItsAdminHandsOutNoLiveLink (attack34b):
// a thief at the console as mallory mints an invite for mal while the real
// admin revokes mallory (the admin API's revoke: her sessions, then the
// invites she minted). The revoke may read her index of invites before the
// mint wrote it; then the mint's check of her session, once its invite is
// written (Request.Live), finds it revoked, and no link is handed out
// (ErrMintEnded). Whichever comes first, a link handed out is refused
// once both have returned: in every interleaving of their reads of her
// index, and 50 times at once, on Badger and on a real Redis.
func TestAConsoleMintRacingTheRevokeOfItsAdminHandsOutNoLiveLink(t *testing.T) {
	t.Parallel()
	tpl, err := enrollment.ParseTemplates("", "")
	if err != nil {
		t.Fatal(err)
	}
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		il := &storetest.Interleaver{Store: st}
		_, dev, adm := enrollment.New(&enrollment.Core{Store: il, CodeKey: []byte("0123456789abcdef0123456789abcdef"), Now: time.Now},
			enrollment.Challenges{Sender: &codes{}, CodeLength: 6, CodeTTL: 5 * time.Minute, MaxAttempts: 5, Templates: tpl})
		issued := time.Now() // her session's, before any revoke
		runs := 0
		answers := map[string]int{}
		next := func() storetest.Pair {
			runs++
			minter, user := fmt.Sprint("mallory", runs), fmt.Sprint("mal", runs)
			if _, _, err := dev.AddIn(ctx, "r", minter, fmt.Sprintf("+1415555%04d", runs), "Phone", ""); err != nil {
				t.Fatal(err)
			}
			// Her session's check, as the console's (session.Manager.Live):
			// revoked since it was issued.
			live := func(ctx context.Context) (bool, error) {
				var b store.Batch
				revoked := session.ReadRevoked(&b, "r", minter)
				_ = store.Do(ctx, il, &b)
				at, err := revoked()
				return err == nil && (at.IsZero() || issued.After(at)), err
			}
			var out any
			var errMint, errRevoke error
			return storetest.Pair{Key: endkeys.MintedInvites("r", minter),
				A: func(ctx context.Context) {
					out, errMint = adminOp(ctx, adm, nil, nil, "/.smsgate/", "", "invites", Request{Realm: "r", User: user, TTL: "1h", Live: live, by: minter})
				},
				B: func(ctx context.Context) {
					_, errRevoke = adminOp(ctx, adm, nil, zap.NewNop(), "/.smsgate/", "", "revoke", Request{Realm: "r", User: minter})
				},
				Check: func() {
					if errRevoke != nil {
						t.Fatalf("%s: the revoke: %v", minter, errRevoke)
					}
					if errors.Is(errMint, ErrMintEnded) {
						answers["no link: her session ended"]++
						return
					}
					link, _ := out.(map[string]string)
					if errMint != nil || link == nil {
						t.Fatalf("%s: the mint: %v", minter, errMint)
					}
					answers["a link"]++
					_, token, _ := strings.Cut(link["url"], "token=")
					inv, err := adm.PeekInvite(ctx, "r", token)
					if err != nil {
						t.Fatal(err)
					}
					var b store.Batch
					gone := enrollment.ReadGone(&b, "r", user)
					_ = store.Do(ctx, il, &b)
					if why, err := gone(inv); err != nil || !errors.Is(why, enrollment.ErrInviteWithdrawn) {
						t.Errorf("%s: the link handed out stands after the revoke of its admin: %v %v", user, why, err)
					}
				}}
		}
		interleavings := il.Interleave(t, next)
		for range 50 {
			p := next()
			done := make(chan struct{})
			go func() { p.B(ctx); close(done) }()
			p.A(ctx)
			<-done
			p.Check()
		}
		t.Logf("%d interleavings, 50 at once: %v", interleavings, answers)
		if interleavings < 2 {
			t.Errorf("%d interleavings: the mint and the revoke did not both read her index", interleavings)
		}
	})
}
