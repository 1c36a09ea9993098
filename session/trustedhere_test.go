package session

import (
	"context"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestATrustsSessionCountsWhereItsRememberAllows: three gates of one realm
// on one store, with remember 30d, 1d and off. A session a trust gave
// counts at a gate only where that gate would have given it: at the 30d
// gate always (its own trusts), at the 1d gate while the trust's code was
// under a day old when the session was issued, at the off gate never. A
// session earned by a code counts at all three, and so does a trust's
// session as the release before signed it (no marks but trusted), where
// its remember allows. Before (attack32's F1), every gate took every
// trust's session.
func TestATrustsSessionCountsWhereItsRememberAllows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
		gate := func(remember time.Duration) *Manager {
			m, err := NewManager(ctx, Config{Store: st, Realm: "example.com", Secret: []byte("a secret of thirty-two bytes, no less"),
				Alg: "HS256", Lifetime: 12 * time.Hour, Remember: remember, Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			return awaitingPolls(m)
		}
		long, short, off := gate(gatesRemember), gate(24*time.Hour), gate(0)
		sms := []factor.AMR{factor.AMRSMS}
		code := now
		_, tb, err := long.TrustHeld(ctx, Began{}, "carol", "", "", time.Time{}, Where{Browser: "a browser"}, "", sms, code.Unix(), gatesRemember)
		if err != nil {
			t.Fatal(err)
		}
		counts := func(what, token string, wantLong, wantShort, wantOff bool) {
			t.Helper()
			for _, g := range []struct {
				name string
				m    *Manager
				want bool
			}{{"30d", long, wantLong}, {"1d", short, wantShort}, {"off", off, wantOff}} {
				if got := g.m.Check(ctx, token) != nil; got != g.want {
					t.Errorf("%s at the %s gate: counts %v, want %v", what, g.name, got, g.want)
				}
			}
		}
		trusted := func() string {
			t.Helper()
			token, _, err := long.IssueTrusted(ctx, Began{}, "carol", tb, Where{Trust: tb.ID})
			if err != nil {
				t.Fatal(err)
			}
			return token
		}
		byCode := func() string {
			t.Helper()
			token, err := long.Issue(ctx, "carol", sms, Where{})
			if err != nil {
				t.Fatal(err)
			}
			return token
		}
		previous := func() string { // as the release before signed a trust's session
			t.Helper()
			cl := Claims{RegisteredClaims: long.keys.NewClaimsAt("example.com", "carol", 12*time.Hour, now), SID: "previous" + now.Format("150405"),
				AMR: sms, AuthTime: code.Unix(), Trusted: true}
			token, err := long.keys.Sign(&cl)
			if err != nil {
				t.Fatal(err)
			}
			return token
		}

		counts("the code's session", byCode(), true, true, true)
		now = code.Add(23 * time.Hour)
		counts("a session of a 23-hour-old trust", trusted(), true, true, false)
		counts("the release before's session of a 23-hour-old trust", previous(), true, true, false)
		now = code.Add(48 * time.Hour)
		counts("a session of a 2-day-old trust", trusted(), true, false, false)
		counts("the release before's session of a 2-day-old trust", previous(), true, false, false)
		counts("a code's session, 2 days on", byCode(), true, true, true)
		now = code.Add(gatesRemember - time.Minute)
		counts("a session of the trust in its last minute", trusted(), true, false, false)
	})
}
