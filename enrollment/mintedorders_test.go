package enrollment_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// Two console mints at once by one admin (attack36 F1), forced into each
// order by holding one of them at a step (no sleeps): her index must keep
// every link that may be live, so that her end withdraws it.

type mintWho struct{}

// mintHold holds the mint its context names "held" at its n-th write of
// the kind named (on a key of that prefix) until released: "index" an
// Update of her index, "invite" a Put of the invite.
type mintHold struct {
	store.Store
	op     string
	prefix string
	n      int

	mu      sync.Mutex
	seen    int
	held    chan struct{} // closed once the mint is held
	release chan struct{}
}

func holdMint(st store.Store, op, prefix string, n int) *mintHold {
	return &mintHold{Store: st, op: op, prefix: prefix, n: n, held: make(chan struct{}), release: make(chan struct{})}
}

func (s *mintHold) wait(ctx context.Context, op, key string) {
	if op != s.op || ctx.Value(mintWho{}) != "held" || !strings.HasPrefix(key, s.prefix) {
		return
	}
	s.mu.Lock()
	s.seen++
	n := s.seen
	s.mu.Unlock()
	if n == s.n {
		close(s.held)
		<-s.release
	}
}

func (s *mintHold) Update(ctx context.Context, key string, change func([]byte, bool) ([]byte, time.Duration, error)) error {
	s.wait(ctx, "update", key)
	return s.Store.Update(ctx, key, change)
}

func (s *mintHold) Put(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	s.wait(ctx, "put", key)
	return s.Store.Put(ctx, key, value, ttl)
}

// mintHeld mints mal's invite by vera with the mint held as hold says,
// runs between while it is held, then lets it finish; it answers the held
// mint's link.
func mintHeld(t *testing.T, adm *enrollment.Admin, hold *mintHold, between func()) string {
	t.Helper()
	var token string
	var err error
	done := make(chan struct{})
	go func() {
		defer close(done)
		token, err = adm.NewInviteBy(context.WithValue(context.Background(), mintWho{}, "held"), "r", "mal", "vera", time.Hour)
	}()
	<-hold.held
	between()
	close(hold.release)
	<-done
	if err != nil {
		t.Fatalf("the held mint: %v", err)
	}
	return token
}

// liveAfterHerEnd ends vera's invites (her revoke's EndMinted) and says
// whether token's link still works.
func liveAfterHerEnd(t *testing.T, st store.Store, adm *enrollment.Admin, token string) bool {
	t.Helper()
	ctx := context.Background()
	if _, err := session.EndMinted(ctx, st, "r", "vera", time.Now(), zap.NewNop()); err != nil {
		t.Fatal(err)
	}
	inv, err := adm.PeekInvite(ctx, "r", token)
	var b store.Batch
	gone := enrollment.ReadGone(&b, "r", "mal")
	_ = store.Do(ctx, st, &b)
	why, gerr := gone(inv)
	return err == nil && why == nil && gerr == nil
}

// TestTheMintFinishingLastKeepsTheLiveMintIndexed: mint A has written its
// record as mal's newest and read it back; mint B then runs whole (its
// record last: B's is the live link); then A finishes. A's finish dropped
// every other entry of mal's — B's, live. Now it drops only those done
// that mal's newest, read after, does not name. Failed without the fix
// (B live after her end), on Badger and Redis.
func TestTheMintFinishingLastKeepsTheLiveMintIndexed(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		hold := holdMint(st, "update", "invites-minted/", 2) // A's finish
		adm := mintedAdmin(hold, nil)
		var tokB string
		tokA := mintHeld(t, adm, hold, func() {
			var err error
			if tokB, err = adm.NewInviteBy(context.Background(), "r", "mal", "vera", time.Hour); err != nil {
				t.Fatalf("B: %v", err)
			}
		})
		raw, _ := st.Get(context.Background(), endkeys.MintedInvites("r", "vera"))
		if !strings.Contains(string(raw), tokID(tokB)) {
			t.Errorf("B, the live link, left vera's index: %s", raw)
		}
		if liveAfterHerEnd(t, st, adm, tokB) {
			t.Errorf("B's link, mal's newest, live after vera's end")
		}
		if liveAfterHerEnd(t, st, adm, tokA) {
			t.Errorf("A's link live after vera's end")
		}
	})
}

// TestTheMintFinishingFirstKeepsTheMintInFlight: mint A has indexed
// itself and is held before it writes its invite; mint B runs whole; then
// A writes its invite and its record last: A's is the live link. B's
// finish dropped A's entry (mal's, not B's). Now an entry still pending
// stays. Failed without the fix (A live after her end), on Badger and
// Redis.
func TestTheMintFinishingFirstKeepsTheMintInFlight(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		hold := holdMint(st, "put", "invite/", 1) // A's invite
		adm := mintedAdmin(hold, nil)
		tokA := mintHeld(t, adm, hold, func() {
			if _, err := adm.NewInviteBy(context.Background(), "r", "mal", "vera", time.Hour); err != nil {
				t.Fatalf("B: %v", err)
			}
		})
		if liveAfterHerEnd(t, st, adm, tokA) {
			t.Errorf("A's link, mal's newest, live after vera's end")
		}
	})
}

// TestAMintAtTheCapKeepsAMintInFlight: at the cap, a mint reads which of
// her entries are closed; one whose user's newest names another was
// closed, a mint in flight too (indexed, its record not yet written),
// which then became mal's newest, out of her index. Now one pending is
// open; a closed one (u0's, replaced) still makes room. Failed without
// the fix (mal's newest live after her end), on Badger and Redis.
func TestAMintAtTheCapKeepsAMintInFlight(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		hold := holdMint(st, "put", "invite/", 1) // mal's second, indexed
		adm := mintedAdmin(hold, nil)
		made := time.Now()
		list := make([]endkeys.Minted, endkeys.MaxMinted-2)
		for i := range list {
			list[i] = endkeys.Minted{User: fmt.Sprint("u", i), ID: fmt.Sprint("id", i), Made: made, Expires: made.Add(time.Hour)}
		}
		raw, _ := json.Marshal(list)
		if err := st.Put(ctx, endkeys.MintedInvites("r", "vera"), raw, time.Hour); err != nil {
			t.Fatal(err)
		}
		if err := st.Put(ctx, endkeys.LatestInvite("r", "u0"), []byte(`{"id":"another"}`), time.Hour); err != nil {
			t.Fatal(err)
		}
		if _, err := adm.NewInviteBy(ctx, "r", "mal", "vera", time.Hour); err != nil { // mal's first
			t.Fatal(err)
		}
		tok := mintHeld(t, adm, hold, func() {
			if _, err := adm.NewInviteBy(ctx, "r", "zed", "vera", time.Hour); err != nil { // at the cap: u0's makes room
				t.Fatalf("zed's, with u0's closed: %v", err)
			}
		})
		if liveAfterHerEnd(t, st, adm, tok) {
			t.Errorf("mal's newest invite, minted by vera, live after her end")
		}
	})
}

// TestAnIndexOfThePreviousReleaseIsRead: an index as the release before
// wrote it (no pending, no session) is read by a mint, which keeps its
// entries, by the end of one session (which leaves them: they name none)
// and by a removal of a device of hers (which ends them: a thief's phone
// may have minted them), on Badger and Redis.
func TestAnIndexOfThePreviousReleaseIsRead(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		adm := mintedAdmin(st, nil)
		token, err := adm.NewInvite(ctx, "r", "mal", time.Hour) // unindexed: its entry written as before
		if err != nil {
			t.Fatal(err)
		}
		made := time.Now().UTC()
		old := fmt.Sprintf(`[{"user":"mal","id":%q,"expires":%q,"made":%q}]`, tokID(token),
			made.Add(time.Hour).Format(time.RFC3339Nano), made.Format(time.RFC3339Nano))
		if err := st.Put(ctx, endkeys.MintedInvites("r", "vera"), []byte(old), time.Hour); err != nil {
			t.Fatal(err)
		}
		if _, err := adm.NewInviteFrom(ctx, "r", "walt", "vera", &endkeys.MintedFrom{SID: "s1", Issued: made, Device: "d1"}, time.Hour); err != nil {
			t.Fatalf("a mint on the old index: %v", err)
		}
		raw, _ := st.Get(ctx, endkeys.MintedInvites("r", "vera"))
		if !strings.Contains(string(raw), tokID(token)) {
			t.Fatalf("the old entry left the index at a mint: %s", raw)
		}
		if end, err := session.EndMintedOf(ctx, st, "r", "vera", time.Now(), nil, session.MintedIn("s2", "")); err != nil || end.Ended != 0 {
			t.Errorf("the end of another session: %+v %v; want none ended", end, err)
		}
		if end, err := session.EndMintedOf(ctx, st, "r", "vera", time.Now(), nil, session.MintedOfDevice("d2", nil)); err != nil || end.Ended != 1 {
			t.Errorf("the removal of another device: %+v %v; want the old entry's ended, walt's not", end, err)
		}
		inv, _ := adm.PeekInvite(ctx, "r", token)
		var b store.Batch
		gone := enrollment.ReadGone(&b, "r", "mal")
		_ = store.Do(ctx, st, &b)
		if why, _ := gone(inv); why != enrollment.ErrInviteWithdrawn {
			t.Errorf("the old entry's invite after the removal: %v; want withdrawn", why)
		}
		if end, err := session.EndMintedOf(ctx, st, "r", "vera", time.Now(), nil, session.MintedOfDevice("d1", nil)); err != nil || end.Ended != 1 {
			t.Errorf("the removal of the device that minted walt's: %+v %v; want it ended", end, err)
		}
	})
}

// tokID is the ID of token's invite (its hash), as the index names it.
func tokID(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
