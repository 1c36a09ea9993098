package session

import (
	"context"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/clock"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestCachedEndsOnTimeOnTheCoarseClock: on the production clock
// (clock.Coarse, a reading kept for clock.Refresh), a cached session is
// never served at or after its expiry, though the clock is not read for
// each request; it is served until shortly before (clock.Ahead).
// Serial: its bound holds while the coarse clock's timer runs at most
// Ahead-Refresh late, which other tests at once on the cores would strain.
func TestCachedEndsOnTimeOnTheCoarseClock(t *testing.T) {
	st := storetest.Badger(t)
	m, err := NewManager(context.Background(), Config{Store: st, Realm: "example.com", Lifetime: time.Hour,
		Now: clock.Now, Coarse: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tok := cacheToken(1)
	exp := time.Now().Add(clock.Ahead + 2*clock.Refresh)
	cl := &Claims{RegisteredClaims: jwt.RegisteredClaims{Subject: "carol", ExpiresAt: &jwt.NumericDate{Time: exp}}}
	cl.facts = newFacts(cl)
	m.cache.Add(tok, cl)
	served := 0
	for {
		before := time.Now()
		got, lookup := m.Cached(ctx, tok)
		if got != nil {
			if !before.Before(exp) {
				t.Fatalf("served %v after its expiry", before.Sub(exp))
			}
			if user, _ := lookup("http.auth.user.id"); got != cl || user != "carol" {
				t.Fatalf("served %+v, user %v", got, user)
			}
			served++
		}
		if before.After(exp.Add(2 * clock.Refresh)) {
			break
		}
	}
	if served == 0 {
		t.Fatal("never served before its expiry")
	}
}

// TestCachedLookupIsTheTokensOwn: Cached answers, beside each token's
// claims, the placeholders of those claims: another session's, even one
// whose token ends alike (the cache's key) and took its slot, never.
func TestCachedLookupIsTheTokensOwn(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	m, _ := newManager(t, "HS256", &now)
	ctx := context.Background()
	for _, user := range []string{"alice", "bob"} {
		tok, err := m.Issue(ctx, user, []factor.AMR{factor.AMRSMS}, Where{})
		if err != nil {
			t.Fatal(err)
		}
		cl, lookup := m.Cached(ctx, tok)
		if cl == nil || cl.Subject != user {
			t.Fatalf("%s: Cached = %+v", user, cl)
		}
		if got, _ := lookup("http.auth.user.id"); got != user {
			t.Fatalf("%s's token: the placeholders name %v", user, got)
		}
	}
	// Two tokens that end alike: the second replaces the first, whose
	// placeholders go with it.
	c := newCache(10)
	end := ".signature-ending-alike"
	a, b := "a"+end, "b"+end
	c.Add(a, cacheClaims("alice"))
	c.Add(b, cacheClaims("bob"))
	if e := c.get(a, time.Now().UnixNano()); e != nil {
		t.Fatalf("a token whose slot another took is served (as %s)", e.claims.Subject)
	}
	if e := c.get(b, time.Now().UnixNano()); e == nil {
		t.Fatal("the second token is a miss")
	} else if got, _ := e.lookup("http.auth.user.id"); got != "bob" {
		t.Fatalf("bob's token: the placeholders name %v", got)
	}
}

// TestCachedAMRsAreTheTokensOwn: Repeat.Cached answers, beside each
// token's claims, Config.AMRs of that token's own amr — made as it was
// cached, whether at Issue or by a check of a token the cache had not
// held — and nothing for a token it does not hold.
func TestCachedAMRsAreTheTokensOwn(t *testing.T) {
	t.Parallel()
	st := storetest.Badger(t)
	bits := func(amr []factor.AMR) uint8 {
		var b uint8
		for _, a := range amr {
			b |= map[factor.AMR]uint8{factor.AMRSMS: 1, factor.AMRTel: 2, factor.AMROTP: 4}[a]
		}
		return b
	}
	m, err := NewManager(context.Background(), Config{Store: st, Realm: "example.com", Lifetime: time.Hour,
		Now: time.Now, AMRs: bits})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r := m.Repeat()
	for _, amr := range [][]factor.AMR{{factor.AMRSMS}, {factor.AMRTel}, {factor.AMROTP, factor.AMRSMS}, {"pwd"}} {
		tok, err := m.Issue(ctx, "carol", amr, Where{})
		if err != nil {
			t.Fatal(err)
		}
		for _, how := range []string{"issued", "checked"} {
			if how == "checked" {
				m.FlushCache()
				if _, _, got := r.Cached(ctx, tok); got != 0 {
					t.Fatalf("amr %v: bits %b for a token the cache does not hold", amr, got)
				}
				if m.Uncached(ctx, tok) == nil {
					t.Fatalf("amr %v: the token did not check", amr)
				}
			}
			if cl, _, got := r.Cached(ctx, tok); cl == nil || got != bits(amr) {
				t.Fatalf("amr %v (%s): cached %v, bits %b, want %b", amr, how, cl != nil, got, bits(amr))
			}
		}
	}
}
