package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// failRevokeOnce fails the first write of the user's revocation.
type failRevokeOnce struct {
	store.Store
	key    string
	failed atomic.Bool
}

func (s *failRevokeOnce) Update(ctx context.Context, key string, change func([]byte, bool) ([]byte, time.Duration, error)) error {
	if key == s.key && s.failed.CompareAndSwap(false, true) {
		return errors.New("rfix37: the store went away")
	}
	return s.Store.Update(ctx, key, change)
}

// unlistedPastMaxListed writes mallory's Unlisted of 42 sessions from more
// trusts than it keeps (AllTrusts), in the previous release's form (no
// "ended", no "ending"), and his trust "thief", issued before Through.
func unlistedPastMaxListed(t *testing.T, st store.Store, now time.Time) (through time.Time) {
	t.Helper()
	ctx := context.Background()
	through = now.Add(-time.Hour)
	old := fmt.Sprintf(`{"count":42,"through":%q,"expires":%q,"all_trusts":true}`,
		through.Format(time.RFC3339Nano), now.Add(24*time.Hour).Format(time.RFC3339Nano))
	if err := st.Put(ctx, unlistedKey("r", "mallory"), []byte(old), 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	trusts := []TrustedBrowser{{ID: "thief", Browser: "Firefox", Created: through.Add(-time.Hour), Expires: now.Add(24 * time.Hour)}}
	raw, _ := json.Marshal(trusts)
	if err := st.Put(ctx, trustedKey("r", "mallory"), raw, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	return through
}

// TestARetriedEndUnlistedPicksTheEndedTrustsInvites (review37 F2,
// rfix37): past MaxListed trusts, end-unlisted picks the invites by the
// trusts it ended. An end that failed after it ended them (here its
// revocation's write) left the record; the admin asks again, and the
// retry ended no trust (gone already), so an invite the thief minted in
// a session his ended trust signed after Through was not picked: it
// stayed live. The trusts are written in the record before they end, and
// the retry reads them. On Badger and Redis.
func TestARetriedEndUnlistedPicksTheEndedTrustsInvites(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, inner store.Store) {
		ctx := context.Background()
		now := time.Now().UTC()
		through := unlistedPastMaxListed(t, inner, now)
		st := &failRevokeOnce{Store: inner, key: endkeys.User("r", "mallory")}
		if _, err := EndUnlisted(ctx, st, "r", "mallory", now); err == nil {
			t.Fatal("the first end did not fail")
		}
		retriedEndPicks(t, st, now, through, "thief")
	})
}

// retriedEndPicks asks again for the end of mallory's unlisted sessions
// at now (its first try failed) and checks that it ends trust and picks an
// invite minted in a session trust signed after through.
func retriedEndPicks(t *testing.T, st store.Store, now, through time.Time, trust string) {
	t.Helper()
	got, err := EndUnlisted(context.Background(), st, "r", "mallory", now)
	if err != nil {
		t.Fatal(err)
	}
	minted := endkeys.Minted{User: "mal", ID: "x", From: &endkeys.MintedFrom{SID: "s", Issued: through.Add(time.Minute), Trust: trust}}
	if !slices.Contains(got.Ended, trust) || !MintedOfUnlisted(got)(minted) {
		t.Errorf("the retried end: Ended %v, picks trust %s's invite %v; want the trust the failed try ended, and its invite", got.Ended, trust, MintedOfUnlisted(got)(minted))
	}
}

// TestAnEndUnlistedWhoseInvitesFailedKeepsItsRecord (rfix37): the end's
// invites (EndMintedOf, the admin's) fail once, after the trusts, the
// revocation and the listed sessions ended: the record stays, its end
// begun, though the revocation covers it, and the end asked again ends
// the thief's trust's invites, then takes it away. The record read first
// is the previous release's (no "ended"). On Badger and Redis.
func TestAnEndUnlistedWhoseInvitesFailedKeepsItsRecord(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		now := time.Now().UTC()
		through := unlistedPastMaxListed(t, st, now)
		minted := endkeys.Minted{User: "mal", ID: "x", From: &endkeys.MintedFrom{SID: "s", Issued: through.Add(time.Minute), Trust: "thief"}}
		var picked []bool
		endInvites := func(fail bool) func(Unlisted) error {
			return func(u Unlisted) error {
				picked = append(picked, MintedOfUnlisted(u)(minted))
				if fail {
					return errors.New("rfix37: the store went away")
				}
				return nil
			}
		}
		if _, err := EndUnlistedWith(ctx, st, "r", "mallory", now, endInvites(true)); err == nil {
			t.Fatal("the first end did not fail")
		}
		if _, err := st.Get(ctx, unlistedKey("r", "mallory")); err != nil {
			t.Fatalf("the record after its invites failed: %v; want it kept", err)
		}
		if u, err := UnlistedSessions(ctx, st, "r", "mallory", now); err != nil || u.Count != 0 {
			t.Errorf("shown after its sessions ended: %+v, %v", u, err)
		}
		if _, err := EndUnlistedWith(ctx, st, "r", "mallory", now, endInvites(false)); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(picked, []bool{true, true}) {
			t.Errorf("the thief's trust's invite picked by each try: %v; want both", picked)
		}
		if _, err := st.Get(ctx, unlistedKey("r", "mallory")); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the record once its invites ended: %v; want it gone", err)
		}
	})
}
