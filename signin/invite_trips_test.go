package signin

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// tripCounter counts its store's round trips: each Get (a batch's too, on
// a store that runs one operation after another: Badger).
type tripCounter struct {
	store.Store
	trips atomic.Int64
}

func (c *tripCounter) Get(ctx context.Context, key string) ([]byte, error) {
	c.trips.Add(1)
	return c.Store.Get(ctx, key)
}

// batchTripCounter is a tripCounter of a store that sends a batch in one
// round trip (Redis: a pipeline), counted as one.
type batchTripCounter struct{ *tripCounter }

func (c batchTripCounter) DoBatch(ctx context.Context, ops []*store.Op) {
	c.trips.Add(1)
	c.Store.(store.Batcher).DoBatch(ctx, ops)
}

// TestAnInviteStandsInOneRoundTrip: whether the invite a flow accepted may
// still enroll a phone (inviteStands, on each send of an enrollment code)
// reads the user's revocation and the invite's spend in one round trip on
// Redis (a pipeline; before, two: the revocation through Revoked, then the
// spend), and on Badger, which has no round trips to save, the same two
// reads. What it decides is what it decided reading them one after the
// other (standing, then the spend: the reference below), for an invite
// minted before or after the user's last revocation (or none), spent or
// not.
func TestAnInviteStandsInOneRoundTrip(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		counter := &tripCounter{Store: st}
		var counted store.Store = counter
		want := int64(2)
		if _, ok := st.(store.Batcher); ok {
			counted, want = batchTripCounter{counter}, 1
		}
		s := newServiceOn(counted, LoginForm{})
		s.Revoked = session.ReadRevoked
		reference := func(user string, f *Flow) (bool, error) {
			at, err := session.RevokedBefore(ctx, st, "r", user)
			if err != nil || !(at.IsZero() || f.invitedAt().After(at)) {
				return false, err
			}
			_, err = st.Get(ctx, spentKey("r", user, f.InvitedAt))
			if errors.Is(err, store.ErrNotFound) {
				return true, nil
			}
			return false, err
		}
		t0 := time.Now()
		checked := 0
		for _, revoked := range []string{"never", "before", "after"} {
			for _, spent := range []bool{false, true} {
				user := revoked + map[bool]string{false: "-unspent", true: "-spent"}[spent]
				f := &Flow{User: user, Invitee: user, InvitedAt: t0.UnixNano()}
				switch revoked {
				case "before":
					if err := session.RevokeUser(ctx, st, "r", user, t0.Add(-time.Minute), nil); err != nil {
						t.Fatal(err)
					}
				case "after":
					if err := session.RevokeUser(ctx, st, "r", user, t0.Add(time.Minute), nil); err != nil {
						t.Fatal(err)
					}
				}
				if spent {
					if first, err := s.spend(ctx, "r", user, f); err != nil || !first {
						t.Fatalf("spending: %v %v", first, err)
					}
				}
				counter.trips.Store(0)
				got, err := s.inviteStands(ctx, "r", user, f)
				trips := counter.trips.Load()
				ref, refErr := reference(user, f)
				if err != nil || refErr != nil || got != ref {
					t.Errorf("revoked %s, spent %v: stands %v (%v), read one by one %v (%v)", revoked, spent, got, err, ref, refErr)
				}
				if wantStands := revoked != "after" && !spent; got != wantStands {
					t.Errorf("revoked %s, spent %v: stands %v, want %v", revoked, spent, got, wantStands)
				}
				if trips != want {
					t.Errorf("revoked %s, spent %v: %d round trips, want %d", revoked, spent, trips, want)
				}
				checked++
			}
		}
		t.Logf("%d cases, %d round trip(s) each", checked, want)

		// Without Revoked (invites never ended): the spend alone, one read.
		s.Revoked = nil
		f := &Flow{User: "never-spent", Invitee: "never-spent", InvitedAt: t0.UnixNano()}
		counter.trips.Store(0)
		if ok, err := s.inviteStands(ctx, "r", "never-spent", f); err != nil || ok || counter.trips.Load() != 1 {
			t.Errorf("without Revoked, a spent invite: stands %v (%v), %d round trips, want false, 1", ok, err, counter.trips.Load())
		}
	})
}
