package session

import (
	"context"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
)

// TestTheRenamingIsRecordedOnce: the first manager on a store records when
// the cookies took their prefixed names; a later one (a restart, another
// instance) keeps that instant, so an old-name cookie issued between the
// two still counts as planted.
func TestTheRenamingIsRecordedOnce(t *testing.T) {
	ctx := context.Background()
	st, closeDB, err := store.OpenBadger(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer closeDB()
	now := time.Date(2026, 12, 1, 10, 0, 0, 500, time.UTC)
	first, err := NewManager(ctx, Config{Store: st, Realm: "example.com", Lifetime: time.Hour, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	later := now.Add(time.Hour)
	second, err := NewManager(ctx, Config{Store: st, Realm: "example.com", Lifetime: time.Hour, Now: func() time.Time { return later }})
	if err != nil {
		t.Fatal(err)
	}
	if !first.Renamed().Equal(now) || !second.Renamed().Equal(now) {
		t.Fatalf("renamed at %v and %v, want %v for both", first.Renamed(), second.Renamed(), now)
	}
	for iat, want := range map[time.Time]bool{
		now.Add(-time.Second).Truncate(time.Second): true,
		now.Truncate(time.Second):                   false, // the same second: not known to be before
		now.Add(time.Minute):                        false,
		{}:                                          false,
	} {
		if got := second.IssuedBeforeRename(iat); got != want {
			t.Errorf("IssuedBeforeRename(%v) = %v, want %v", iat, got, want)
		}
	}
}
