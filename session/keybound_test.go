package session

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// asPreviousRelease rewrites the store's EdDSA keys as a previous release
// wrote them: naming no secret.
func asPreviousRelease(t *testing.T, st store.Store) {
	t.Helper()
	ctx := context.Background()
	for n := 1; ; n++ {
		raw, err := st.Get(ctx, edKeyName(n))
		if errors.Is(err, store.ErrNotFound) {
			return
		}
		var rec edKeyRecord
		if err != nil || json.Unmarshal(raw, &rec) != nil {
			t.Fatalf("key %d: %v", n, err)
		}
		rec.Bound = nil
		raw, _ = json.Marshal(rec)
		if err := st.Put(ctx, edKeyName(n), raw, 0); err != nil {
			t.Fatal(err)
		}
	}
}

// TestANewSecretEndsTheEdDSAKeysMadeBeforeIt: with EdDSA, a session is
// signed with a key of the store, which goes with the secret it was made
// under. An upgrade loses nothing (a previous release's keys, naming no
// secret, still verify what they signed, and are claimed for the store's
// secret); NewSecret ends them, whether a gate of this release claimed them
// already or not (Caddy stopped since the upgrade): at the running gate
// once it adopts the new secret, and at one started after. The new keys
// rotate on. On Badger and Redis. (Before: every check below of a session
// from before the new secret passed.)
func TestANewSecretEndsTheEdDSAKeysMadeBeforeIt(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
		open := func() *Manager {
			t.Helper()
			m, err := NewManager(ctx, Config{Store: st, Realm: "example.com", Alg: "EdDSA", Lifetime: 24 * time.Hour,
				Rotation: time.Hour, Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			return awaitingPolls(m)
		}
		old := open()
		tok, err := old.Issue(ctx, "alice", []factor.AMR{factor.AMRSMS}, Where{})
		if err != nil {
			t.Fatal(err)
		}
		for _, stopped := range []bool{false, true} {
			asPreviousRelease(t, st)
			upgraded := open()
			if upgraded.Check(ctx, tok) == nil {
				t.Fatal("the upgrade lost a session a previous release's key signed")
			}
			raw, _ := st.Get(ctx, edKeyName(1))
			var rec edKeyRecord
			if json.Unmarshal(raw, &rec) != nil || rec.Bound == nil {
				t.Fatalf("a previous release's key was not claimed for the store's secret: %s", raw)
			}
			if stopped {
				asPreviousRelease(t, st) // NewSecret before any gate of this release ran
			}
			if err := NewSecret(ctx, st); err != nil {
				t.Fatal(err)
			}
			if ch, err := upgraded.Reconcile(ctx); err != nil || ch != SecretAdopted {
				t.Fatalf("after NewSecret: %v, %v; want adopted", ch, err)
			}
			if upgraded.Check(ctx, tok) != nil {
				t.Fatalf("stopped %v: the running gate still takes a session from before the new secret", stopped)
			}
			if open().Check(ctx, tok) != nil {
				t.Fatalf("stopped %v: a gate started after the new secret takes a session from before it", stopped)
			}
			now = now.Add(2 * time.Hour) // past Rotation: a new key
			fresh, err := upgraded.Issue(ctx, "alice", []factor.AMR{factor.AMRSMS}, Where{})
			if err != nil || upgraded.Check(ctx, fresh) == nil || open().Check(ctx, fresh) == nil {
				t.Fatalf("stopped %v: a session after the new secret (and a rotation) is refused: %v", stopped, err)
			}
			tok = fresh
		}
	})
}
