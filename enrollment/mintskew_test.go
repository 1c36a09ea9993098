package enrollment_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestAMintInFlightAtASkewedClockStaysIndexed (review37 F1, rfix37):
// minted37's dead-mint rule judges a pending entry by the minting
// instance's clock (Made) against the judging instance's. Two
// instances on one store whose clocks are more than mintGrace (1 h)
// apart: mal's mint at the slow instance is in flight (its entry written
// pending, its invite not yet); vera's mint for zed at the other hits the
// cap, reads mal's entry as dead (pending "past the hour", its invite
// absent, mal's newest naming his first) and drops it; mal's mint then
// writes its invite, unindexed (mintedDone finds no entry). Her revoke
// (EndMinted) left that link live: attack36 F1's hole again. No clock is
// trusted now: the mint's mintedDone puts back its entry, done, where it
// finds none, so her end withdraws the link. On Badger and Redis.
func TestAMintInFlightAtASkewedClockStaysIndexed(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		const week = 7 * 24 * time.Hour
		hold := holdMint(st, "put", "invite/", 1) // mal's second, indexed pending, its invite not yet written
		slow := func() time.Time { return time.Now().Add(-2 * time.Hour) }
		_, _, slowAdm := enrollment.New(&enrollment.Core{Store: hold, CodeKey: []byte("0123456789abcdef0123456789abcdef"), Now: slow}, enrollment.Challenges{})
		adm := mintedAdmin(st, nil) // the other instance, its clock right
		made := time.Now()
		list := make([]endkeys.Minted, endkeys.MaxMinted-2)
		for i := range list {
			list[i] = endkeys.Minted{User: fmt.Sprint("u", i), ID: fmt.Sprint("id", i), Made: made, Expires: made.Add(week)}
		}
		raw, _ := json.Marshal(list)
		if err := st.Put(ctx, endkeys.MintedInvites("r", "vera"), raw, week); err != nil {
			t.Fatal(err)
		}
		if err := st.Put(ctx, endkeys.LatestInvite("r", "u0"), []byte(`{"id":"another"}`), week); err != nil {
			t.Fatal(err)
		}
		if _, err := adm.NewInviteBy(ctx, "r", "mal", "vera", week); err != nil { // mal's first
			t.Fatal(err)
		}
		var token string
		var merr error
		done := make(chan struct{})
		go func() {
			defer close(done)
			token, merr = slowAdm.NewInviteBy(context.WithValue(ctx, mintWho{}, "held"), "r", "mal", "vera", week)
		}()
		<-hold.held
		if _, err := adm.NewInviteBy(ctx, "r", "zed", "vera", week); err != nil { // at the cap
			t.Errorf("zed's: %v", err)
		}
		close(hold.release)
		<-done
		if merr != nil {
			t.Fatalf("mal's held mint: %v", merr)
		}
		if liveAfterHerEnd(t, st, adm, token) {
			t.Errorf("mal's invite, minted by vera at an instance whose clock is 2 h slow, live after her end: its entry was dropped as a dead mint while the mint was in flight")
		}
	})
}
