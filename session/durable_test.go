package session

import (
	"context"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestRevocationsAreLasting: the signing keys and every revocation are on
// disk before the caller hears of them, and so is its entry in the
// revocation log (on Redis, on a replica: a failover must not lose the
// news other instances forget their cached copies by); checking a session
// writes nothing.
func TestRevocationsAreLasting(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.Badger(t)
	log := &storetest.LastingLog{Store: st}
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	m, err := NewManager(ctx, Config{Store: log, Realm: "example.com", Alg: "EdDSA", Lifetime: time.Hour, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	awaitingPolls(m)
	if got := log.Writes(); got != "put keys, put keys" { // the secret, the first EdDSA key
		t.Fatalf("the signing keys: lasting writes %q", got)
	}
	tok, _ := m.Issue(ctx, "alice", []factor.AMR{factor.AMRSMS}, Where{})
	cl := m.Check(ctx, tok)
	if got := log.Writes(); got != "" {
		t.Fatalf("a session check made lasting writes: %q", got)
	}
	if _, err := m.Revoke(ctx, tok, cl); err != nil {
		t.Fatal(err)
	}
	if got := log.Writes(); got != "put revoked, put revocation" {
		t.Fatalf("a logout: lasting writes %q", got)
	}
	if err := m.RevokeUser(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if got := log.Writes(); got != "put revoked-user, put revocation" {
		t.Fatalf("revoking a user: lasting writes %q", got)
	}
}
