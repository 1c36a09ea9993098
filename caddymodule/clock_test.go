package caddymodule

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/session"

	"github.com/smsgate/caddy-smsgate/internal/clock"
)

// TestEachGateItsOwnClock: a gate provisioned on a context that carries a
// clock (clock.With) keeps time by it, down to its sessions; another
// gate's clock is not moved with it. Tests that provision their own gates
// move time in parallel.
func TestEachGateItsOwnClock(t *testing.T) {
	t.Parallel()
	gate := func(c *clock.Test) *Gate {
		st, _ := json.Marshal(map[string]any{"module": "badger", "path": t.TempDir()})
		// Cancelled (the store closed) before the folder is removed.
		ctx, cancel := caddy.NewContext(caddy.Context{Context: clock.With(context.Background(), c.Now)})
		t.Cleanup(cancel)
		g := &Gate{Realm: "localhost", Identity: IdentityNone, SigningAlg: "HS256", SigningKey: "a shared signing key of at least thirty-two bytes",
			StoreRaw: st, ProvidersRaw: []json.RawMessage{json.RawMessage(`{"provider":"log"}`)}}
		if err := g.Provision(ctx); err != nil {
			t.Fatal(err)
		}
		return g
	}
	var moved, still clock.Test
	a, b := gate(&moved), gate(&still)
	token, _, err := a.run.sessions.IssueBegun(context.Background(), session.Began{}, "alice", []factor.AMR{factor.AMRSMS}, session.Where{})
	if err != nil {
		t.Fatal(err)
	}
	moved.Advance(a.run.sessions.Lifetime() + time.Minute)
	if d := a.run.now().Sub(b.run.now()); d < a.run.sessions.Lifetime() {
		t.Fatalf("gate a's clock is %v ahead of b's, want past a session's lifetime", d)
	}
	if a.run.sessions.Check(context.Background(), token) != nil {
		t.Fatal("the gate whose clock moved past the session's end still takes it")
	}
	if b.run.sessions.Check(context.Background(), token) == nil {
		t.Fatal("the other gate, whose clock did not move, refuses the session")
	}
}
