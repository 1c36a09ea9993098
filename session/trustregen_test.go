package session

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestASignInByTheEarlierCookieRacingItsReTrust (attack39, narrow): a copy
// of a browser's trust cookie signs in (Trusted, then IssueTrusted, as the
// pages do) while the browser itself is trusted again (TrustHeld): once
// forced, the copy's Trusted before the re-trust and its IssueTrusted
// after, then in every interleaving of their reads of the user's trusts
// and atOnce times at once, on Badger and a real Redis. IssueTrusted's
// last read (stillTrusted) compares the trust's ID, not its generation,
// so in that window the copy's session stands: what is checked is that
// this is safe. The re-trust keeps the trust's ID and ends no session (one
// the copy signed in just before it stands as well), so that session is
// the one the copy would have had a moment earlier: it names the trust,
// is listed with it, and the end of the trust ("Stop trusting",
// EndTrust) ends it; and from the re-trust on, the copy signs nobody in
// and the new cookie does.
func TestASignInByTheEarlierCookieRacingItsReTrust(t *testing.T) {
	t.Parallel()
	raceOnBothStores(t, func(t *testing.T, m *Manager, il *storetest.Interleaver, now time.Time, lost map[string]int) []race {
		ctx := context.Background()
		amr := []factor.AMR{factor.AMRSMS}
		users := 0
		// trusted is a new user's trusted browser: its cookie (the copy's
		// too) and its trust.
		trusted := func() (string, string, *TrustedBrowser) {
			users++
			user := fmt.Sprint("user", users)
			cookie, tb, err := m.TrustHeld(ctx, Began{}, user, "", "", time.Time{}, Where{Browser: "owner"}, "", amr, now.Unix(), time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			return user, cookie, tb
		}
		// copySignsIn is the copy's sign-in up to the trust it found.
		copySignsIn := func(ctx context.Context, cookie string) (string, *TrustedBrowser) {
			who, tb, err := m.Trusted(ctx, cookie)
			if err != nil {
				return "", nil // the re-trust came first: refused
			}
			return who, tb
		}
		reTrust := func(ctx context.Context, user, cookie string) string {
			again, _, err := m.TrustHeld(ctx, Began{}, user, cookie, "", time.Time{}, Where{Browser: "owner"}, "", amr, now.Unix(), time.Hour)
			if err != nil || again == "" {
				t.Errorf("%s: the re-trust: %q, %v", user, again, err)
			}
			return again
		}
		check := func(user, cookie, again, token, sid string, first *TrustedBrowser) {
			if _, _, err := m.Trusted(ctx, cookie); !errors.Is(err, ErrNotTrusted) {
				lost["the copy of the earlier cookie signs in after the re-trust"]++
			}
			if _, tb, err := m.Trusted(ctx, again); err != nil || tb.ID != first.ID {
				lost["the re-trust's cookie does not sign in by the trust's ID"]++
			}
			if token == "" {
				return
			}
			cl, err := m.Verify(token)
			if err != nil || cl.Trust == nil || *cl.Trust != first.ID {
				lost["the copy's session does not name the trust"]++
			}
			list, err := Sessions(ctx, il, "example.com", user, now)
			if err != nil {
				t.Fatal(err)
			}
			listed := false
			for _, s := range list {
				listed = listed || s.SID == sid && s.Where.Trust == first.ID
			}
			if !listed {
				lost["the copy's session is not listed with its trust"]++
			}
			if ended, err := EndTrust(ctx, il, "example.com", user, first.ID, now); err != nil || !ended {
				t.Fatalf("%s: ending the trust: %v, %v", user, ended, err)
			}
			m.FlushCache()
			if m.Uncached(ctx, token) != nil {
				lost["the copy's session outlives the end of its trust"]++
			}
		}

		// The window, forced: the copy found the trust, then the browser
		// was trusted again, then the copy's session was issued.
		user, cookie, first := trusted()
		who, tb := copySignsIn(ctx, cookie)
		again := reTrust(ctx, user, cookie)
		token, sid, err := m.IssueTrusted(ctx, Began{}, who, tb, Where{Trust: tb.ID})
		if err != nil {
			t.Fatalf("the copy's sign-in that found the trust before the re-trust: %v (stillTrusted now compares generations: this test's reason is gone)", err)
		}
		check(user, cookie, again, token, sid, first)

		copyVsReTrust := func() storetest.Pair {
			user, cookie, first := trusted()
			var token, sid, again string
			return storetest.Pair{Key: trustedKey("example.com", user),
				A: func(ctx context.Context) {
					if who, tb := copySignsIn(ctx, cookie); tb != nil {
						token, sid, _ = m.IssueTrusted(ctx, Began{}, who, tb, Where{Trust: tb.ID})
					}
				},
				B:     func(ctx context.Context) { again = reTrust(ctx, user, cookie) },
				Check: func() { check(user, cookie, again, token, sid, first) },
			}
		}
		return []race{{copyVsReTrust, 2}}
	})
}
