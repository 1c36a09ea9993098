package enrollment

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
)

// TestAnImportAnnouncesWhatItWrote: an import announces (Core.Announce:
// session's revocation log) each user's revocation and end of a session
// it writes, and none it leaves as the store holds it (the store's ends
// later). On Badger and on a real Redis.
func TestAnImportAnnouncesWhatItWrote(t *testing.T) {
	t.Parallel()
	onRaceStores(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		s, _, _ := raceService(t, st)
		var mu sync.Mutex
		var told []string
		s.Core.Announce = func(_ context.Context, to store.Store, key string, _ []byte) error {
			mu.Lock()
			defer mu.Unlock()
			if to != st {
				t.Errorf("announced on another store")
			}
			told = append(told, key)
			return nil
		}
		admin := &Admin{Core: s.Core, Devices: s.Devices}
		now := time.Now().UTC()
		stamp := func(at time.Time) json.RawMessage { raw, _ := json.Marshal(at); return raw }
		alice, bob := store.Key("revoked-user", realm, "alice"), store.Key("revoked-user", realm, "bob")
		held, fresh := store.Key("revoked", realm, "s1"), store.Key("revoked", realm, "s2")
		if err := st.Put(ctx, alice, stamp(now), 0); err != nil {
			t.Fatal(err)
		}
		if err := st.Put(ctx, held, []byte("announced"), 2*time.Hour); err != nil {
			t.Fatal(err)
		}
		hour, mark := now.Add(time.Hour), json.RawMessage(`"AQ=="`)
		file := []Record{
			{Key: alice, Value: stamp(now.Add(-time.Minute))}, // the store's is later
			{Key: bob, Value: stamp(now)},
			{Key: "b64:" + held, Value: mark, Until: &hour}, // the store's ends later
			{Key: "b64:" + fresh, Value: mark, Until: &hour},
		}
		if _, err := admin.Import(ctx, file); err != nil {
			t.Fatal(err)
		}
		slices.Sort(told)
		if want := []string{bob, fresh}; !slices.Equal(told, want) {
			t.Fatalf("announced %q, want %q", told, want)
		}
	})
}
