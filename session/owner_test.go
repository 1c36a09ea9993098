package session

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/drain"
	"github.com/smsgate/caddy-smsgate/store"
)

// TestNoPollAfterTheOwnerLetGo: once a gate's Cleanup has let go of its
// store (its drain closed, its last use ended, the store closed), a
// repeat visit whose turn it is to poll the revocation log reads nothing
// from the closed store (before, the poll ran outside the drain, and
// logged the closed store's error); nor does it find its session in the
// cache, which no poll tells of a revocation any more (the gate hands the
// request on to the one that replaced it). Until a poll is due, the cache
// answers as a live gate's does.
// Serial: its sleep is the time a wrongly started poll has to show
// itself, which other tests at once would shorten.
func TestNoPollAfterTheOwnerLetGo(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	st, closeDB, err := store.OpenBadger(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var uses drain.Drain
	core, logs := observer.New(zap.DebugLevel)
	m, err := NewManager(ctx, Config{Store: st, Realm: "example.com", Lifetime: time.Hour,
		Now: func() time.Time { return now }, Logger: zap.New(core), Uses: &uses})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := m.Issue(ctx, "alice", []factor.AMR{factor.AMRSMS}, Where{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Check(ctx, tok) == nil {
		t.Fatal("a new session is refused")
	}
	closed := make(chan struct{})
	uses.Close(func() { _ = closeDB(); close(closed) })
	<-closed
	if cl, _ := m.Cached(ctx, tok); cl == nil {
		t.Fatal("the cached session is refused after the owner let go, though no poll is due")
	}
	now = now.Add(RevocationPoll + time.Second)
	for range 2 { // and the next poll is due still
		if cl, _ := m.Cached(ctx, tok); cl != nil {
			t.Fatal("the cached session is found after the owner let go, when a poll is due")
		}
	}
	time.Sleep(2 * pollWait) // a poll, had one started, has met the closed store
	if n := logs.Len(); n > 0 {
		t.Fatalf("the closed store was read: %d log entries, the first %q", n, logs.All()[0].Message)
	}
}

// TestNoAssertionSignedAfterTheOwnerLetGo: an identity assertion still to
// be reused is answered after the owner let go of the store (it writes
// nothing); one due to be signed again is ErrReleased, and nothing is
// signed: signing may rotate the keys, a write to the store let go of.
func TestNoAssertionSignedAfterTheOwnerLetGo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	st, closeDB, err := store.OpenBadger(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var uses drain.Drain
	m, err := NewManager(ctx, Config{Store: st, Realm: "example.com", Alg: "EdDSA", Lifetime: 3 * time.Hour,
		Rotation: time.Hour, Now: func() time.Time { return now }, Uses: &uses})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := m.Issue(ctx, "alice", []factor.AMR{factor.AMRSMS}, Where{})
	if err != nil {
		t.Fatal(err)
	}
	cl := m.Check(ctx, tok)
	first, err := m.Assertion(cl, "")
	if err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{})
	uses.Close(func() { _ = closeDB(); close(closed) })
	<-closed
	if a, err := m.Assertion(cl, ""); err != nil || a != first {
		t.Fatalf("the assertion still to be reused, after the owner let go: %v", err)
	}
	now = now.Add(61 * time.Minute) // the assertion expired, a new key due
	if a, err := m.Assertion(cl, ""); !errors.Is(err, ErrReleased) {
		t.Fatalf("an assertion signed after the owner let go: %q, %v; want ErrReleased", a, err)
	}
}
