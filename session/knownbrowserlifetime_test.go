package session

import (
	"context"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/smsgate/caddy-smsgate/continuity"
	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestASignOutAtAShorterGateCountsTheKnownBrowserOfALongerGatesSession
// (review39 R3): two gates of one realm on one store, the site's
// (session_lifetime 12h, remember: the browser trusted there, its trust
// cookie under that gate's path_prefix) and /admin's (session_lifetime 1h).
// Two hours after the code at the site's gate, alice's session there is
// live, and her known-browser cookie names it: "Sign out" at the /admin
// gate must count it (KnownBrowser), so that UntrustBrowser ends the site's
// trust, whose cookie /admin never sees. Judged by /admin's own lifetime it
// did not, and the next visit to the site signed in with no code. Badger
// and Redis.
func TestASignOutAtAShorterGateCountsTheKnownBrowserOfALongerGatesSession(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
		open := func(life time.Duration) *Manager {
			m, err := NewManager(ctx, Config{Store: st, Realm: "example.com", Secret: []byte("a secret of thirty-two bytes, no less"),
				Alg: "HS256", Lifetime: life, Remember: 30 * 24 * time.Hour, Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		if w, _, err := continuity.Open(ctx, st, continuity.Options{Now: func() time.Time { return now }}); err != nil || w == nil {
			t.Fatal(err)
		}
		site, admin := open(12*time.Hour), open(time.Hour)
		b := site.Begin()
		tok, tb, err := site.TrustHeld(ctx, b, "alice", "", "BROWSER1", time.Time{}, Where{Browser: "Firefox"}, "D1", []factor.AMR{factor.AMRSMS}, now.Unix(), 30*24*time.Hour)
		if err != nil || tok == "" {
			t.Fatal(tb, err)
		}
		_, sid, err := site.IssueBegun(ctx, b, "alice", []factor.AMR{factor.AMRSMS}, Where{Browser: "Firefox", Trust: tb.ID})
		if err != nil {
			t.Fatal(err)
		}
		trust := tb.ID
		known := &Claims{RegisteredClaims: jwt.RegisteredClaims{Subject: "alice", IssuedAt: jwt.NewNumericDate(now)}, SID: sid, Browser: "BROWSER1", Trust: &trust}
		now = now.Add(2 * time.Hour)
		if got, err := site.KnownBrowser(ctx, known); err != nil || got != "BROWSER1" {
			t.Fatalf("at the site's gate: %q, %v", got, err)
		}
		got, err := admin.KnownBrowser(ctx, known)
		if err != nil || got != "BROWSER1" {
			t.Errorf("a sign-out at the /admin gate (1h) does not count the browser's known cookie (%q, %v) though its session at the site's gate (12h) is live: the site's trust, whose cookie /admin never sees, survives the sign-out", got, err)
		}
		now = now.Add(11 * time.Hour) // past the session's own lifetime: no more
		if got, err := site.KnownBrowser(ctx, known); err != nil || got != "" {
			t.Errorf("at the site's gate past the session's lifetime: %q, %v", got, err)
		}
	})
}
