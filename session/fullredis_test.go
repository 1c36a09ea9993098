package session

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestASignOutOnAFullRedisReachesEveryInstanceOrFails (attack40b's open
// question): Redis full (maxmemory, noeviction: every write refused with
// OOM, reads and deletes still served), carol signs out at gate A; gate B,
// another instance on the same Redis, has her session cached. The
// sign-out either reaches the store, and B refuses the cookie from its
// next poll, or it fails (the page's 503, the cookie kept: she is told to
// try again): it never answers done while B still takes the cookie. Once
// memory is freed the retry ends it at B too. On a real redis-server.
func TestASignOutOnAFullRedisReachesEveryInstanceOrFails(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := redistest.StartWith(t, "--maxmemory", "4mb", "--maxmemory-policy", "noeviction")
	st, closeStore, err := store.OpenRedis(&store.Redis{Addresses: []string{r.Addr}})
	if err != nil {
		t.Fatal(err)
	}
	defer closeStore()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	gate := func() *Manager {
		m, err := NewManager(ctx, Config{Store: st, Realm: "example.com", Alg: "HS256", Lifetime: time.Hour,
			Remember: gatesRemember, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		return awaitingPolls(m)
	}
	a, b := gate(), gate()
	tok, err := a.Issue(ctx, "carol", []factor.AMR{factor.AMRSMS}, Where{})
	if err != nil {
		t.Fatal(err)
	}
	kept, err := a.Issue(ctx, "carol", []factor.AMR{factor.AMRSMS}, Where{}) // her other browser's
	if err != nil {
		t.Fatal(err)
	}
	cl := a.Check(ctx, tok)
	if cl == nil || b.Check(ctx, tok) == nil || b.Check(ctx, kept) == nil {
		t.Fatal("a new session is refused")
	}

	c := redis.NewClient(&redis.Options{Addr: r.Addr})
	defer c.Close()
	full := &redistest.Junk{C: c}
	full.Fill(t, ctx) // full for small writes too

	_, err = a.Revoke(ctx, tok, cl)
	if err != nil && !strings.Contains(err.Error(), "OOM") {
		t.Fatalf("the sign-out failed, not by the full Redis: %v", err)
	}
	t.Logf("the sign-out at A on a full Redis: %v", err)
	// Memory freed, B past its next poll: it takes carol's other session,
	// and not the one A said was ended.
	full.Free(t, ctx)
	now = now.Add(RevocationPoll + time.Second)
	if b.Check(ctx, kept) == nil {
		t.Fatal("B takes no session at all: the test proves nothing")
	}
	if err == nil && b.Check(ctx, tok) != nil {
		t.Fatal("HOLE: the sign-out at A on a full Redis answered done, and B still takes the cookie")
	}
	if err != nil {
		if _, err := a.Revoke(ctx, tok, cl); err != nil {
			t.Fatalf("the sign-out's retry once memory was freed: %v", err)
		}
		now = now.Add(RevocationPoll + time.Second)
	}
	if b.Check(ctx, tok) != nil || a.Check(ctx, tok) != nil {
		t.Fatal("the sign-out left the session at B or A")
	}
}
