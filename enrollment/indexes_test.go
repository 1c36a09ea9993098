package enrollment

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
)

// indexRecord is a user's index of sessions as a gate writes it.
func indexRecord(t *testing.T, kind, user string, v any) Record {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return Record{Key: store.Key(kind, realm, user), Value: raw}
}

// TestAnImportMergesTheListsOfSessions (movesess41): the store lists
// alice's S1 and the file S1 and S2 (and S3, expired): after the import
// she has S1 and S2; bob's S4, whose logout the file carries, is not
// listed; the count of sessions the list pushed out is the file's, and
// stays so when the same import runs again. On Badger and Redis.
func TestAnImportMergesTheListsOfSessions(t *testing.T) {
	t.Parallel()
	onRaceStores(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		s, _, _ := raceService(t, st)
		admin := &Admin{Core: s.Core, Devices: s.Devices}
		now := admin.clock()
		info := func(sid string, issued time.Time, life time.Duration) session.Info {
			return session.Info{SID: sid, Issued: issued.UTC().Truncate(time.Second), Expires: issued.Add(life).UTC()}
		}
		s1, s2 := info("S1", now.Add(-2*time.Hour), 24*time.Hour), info("S2", now.Add(-time.Hour), 24*time.Hour)
		s3, s4 := info("S3", now.Add(-3*time.Hour), time.Hour), info("S4", now.Add(-time.Hour), 24*time.Hour)
		held := indexRecord(t, session.IndexKind, "alice", []session.Info{s1})
		if err := st.Put(ctx, held.Key, held.Value, 24*time.Hour); err != nil {
			t.Fatal(err)
		}
		pushed := session.Unlisted{Count: 2, Through: now.Add(-5 * time.Hour).UTC().Truncate(time.Second), Expires: now.Add(time.Hour).UTC()}
		file := []Record{
			indexRecord(t, session.IndexKind, "alice", []session.Info{s3, s1, s2}),
			indexRecord(t, session.UnlistedKind, "alice", pushed),
			indexRecord(t, session.IndexKind, "bob", []session.Info{s4}),
			record(endkeys.Session(realm, "S4"), []byte("announced")),
		}
		for range 2 {
			if _, err := admin.Import(ctx, file); err != nil {
				t.Fatal(err)
			}
		}
		sids := func(user string) []string {
			list, err := session.Sessions(ctx, st, realm, user, now)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, s := range list {
				out = append(out, s.SID)
			}
			slices.Sort(out)
			return out
		}
		if got := sids("alice"); !slices.Equal(got, []string{"S1", "S2"}) {
			t.Errorf("alice's sessions after the import: %v, want S1 S2", got)
		}
		if got := sids("bob"); len(got) != 0 {
			t.Errorf("bob's sessions after the import, S4 logged out: %v", got)
		}
		u, err := session.UnlistedSessions(ctx, st, realm, "alice", now)
		if err != nil || u.Count != 2 || !u.Through.Equal(pushed.Through) {
			t.Errorf("alice's sessions pushed out after the import run twice: %+v %v, want the file's 2", u, err)
		}
	})
}

// TestAnImportRefusesAListOfSessionsNoGateWrote: a hand-edited list of
// sessions (an ID no gate makes, an expiry past the longest lifetime, no
// list, a key with no user) is refused, naming its key, before anything
// is written. On Badger and Redis.
func TestAnImportRefusesAListOfSessionsNoGateWrote(t *testing.T) {
	t.Parallel()
	onRaceStores(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		s, _, _ := raceService(t, st)
		admin := &Admin{Core: s.Core, Devices: s.Devices}
		now := admin.clock()
		bad := []Record{
			indexRecord(t, session.IndexKind, "alice", []session.Info{{SID: "S1<script>", Expires: now.Add(time.Hour)}}),
			indexRecord(t, session.IndexKind, "alice", []session.Info{{SID: "S1", Expires: now.Add(2 * 365 * 24 * time.Hour)}}),
			indexRecord(t, session.IndexKind, "alice", map[string]string{"sid": "S1"}),
			indexRecord(t, session.UnlistedKind, "alice", session.Unlisted{Count: 1, Expires: now.Add(2 * 365 * 24 * time.Hour)}),
			{Key: "sessions/" + realm, Value: json.RawMessage(`[]`)},
		}
		devices := indexRecord(t, "device", "carol", []Device{})
		for _, r := range bad {
			_, err := admin.Import(ctx, []Record{devices, r})
			var refused *ImportError
			if !errors.As(err, &refused) || refused.Key != r.Key {
				t.Errorf("an import of %s %s: %v, want it refused", r.Key, r.Value, err)
			}
		}
		if _, err := st.Get(ctx, devices.Key); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a refused import wrote carol's devices: %v", err)
		}
	})
}

// TestAnImportPastTwentySessionsCountsTheOldest: the store lists 15 of
// alice's sessions and the file 10 others, older: the newest 20 are
// listed, and the 5 oldest, pushed out, are counted (UnlistedSessions),
// so that the admin sees and ends them (EndUnlisted), as a sign-in's.
// On Badger and Redis.
func TestAnImportPastTwentySessionsCountsTheOldest(t *testing.T) {
	t.Parallel()
	onRaceStores(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		s, _, _ := raceService(t, st)
		admin := &Admin{Core: s.Core, Devices: s.Devices}
		now := admin.clock().UTC().Truncate(time.Second)
		list := func(from, n int) []session.Info {
			var out []session.Info
			for i := from; i < from+n; i++ {
				issued := now.Add(time.Duration(i-100) * time.Minute)
				out = append(out, session.Info{SID: "S" + strconv.Itoa(i), Issued: issued, Expires: issued.Add(24 * time.Hour)})
			}
			return out
		}
		held := indexRecord(t, session.IndexKind, "alice", list(10, 15))
		if err := st.Put(ctx, held.Key, held.Value, 24*time.Hour); err != nil {
			t.Fatal(err)
		}
		if _, err := admin.Import(ctx, []Record{indexRecord(t, session.IndexKind, "alice", list(0, 10))}); err != nil {
			t.Fatal(err)
		}
		listed, err := session.Sessions(ctx, st, realm, "alice", now)
		if err != nil || len(listed) != session.MaxListed || listed[len(listed)-1].SID != "S5" {
			t.Fatalf("alice's sessions after the import: %d %v, want the newest 20, S5 the oldest", len(listed), err)
		}
		u, err := session.UnlistedSessions(ctx, st, realm, "alice", now)
		if err != nil || u.Count != 5 || !u.Through.Equal(now.Add(-96*time.Minute)) {
			t.Errorf("the sessions the import pushed out: %+v %v, want 5 through S4's", u, err)
		}
	})
}
