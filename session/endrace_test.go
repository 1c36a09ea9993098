package session

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestAnEndRacingATrustedSignInEndsItsSession: the admin ends a session
// that came with a trusted browser (End: the session, its trust and every
// listed session of that trust) while that browser signs in again by the
// trust (Trusted, then IssueTrusted, as the pages do). Once the end is
// acknowledged, no session of that trust is live, in every interleaving
// of their reads of the user's trusts and 50 times at once, on Badger and
// on a real Redis. Before, a sign-in that found the trust before the end
// removed it and listed its session after the end had read the list kept
// that session for its lifetime: the stolen browser the admin shut out
// stayed in.
func TestAnEndRacingATrustedSignInEndsItsSession(t *testing.T) {
	t.Parallel()
	raceOnBothStores(t, func(t *testing.T, m *Manager, il *storetest.Interleaver, now time.Time, lost map[string]int) []race {
		ctx := context.Background()
		users := 0
		endVsTrustedSignIn := func() storetest.Pair {
			users++
			user := fmt.Sprint("user", users)
			cookie, tb, err := m.Trust(ctx, Began{}, user, "", "", "thief", []string{"sms"}, now.Unix(), time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			_, first, err := m.IssueTrusted(ctx, Began{}, user, tb, Where{Trust: tb.ID})
			if err != nil {
				t.Fatal(err)
			}
			var token string
			var errEnd error
			return storetest.Pair{Key: trustedKey("example.com", user),
				A: func(ctx context.Context) {
					who, tb, err := m.Trusted(ctx, cookie)
					if err != nil {
						return // the end came first: a code, then
					}
					token, _, _ = m.IssueTrusted(ctx, Began{}, who, tb, Where{Trust: tb.ID})
				},
				B: func(ctx context.Context) { _, errEnd = End(ctx, il, "example.com", user, first, now) },
				Check: func() {
					if errEnd != nil {
						t.Fatalf("%s: end: %v", user, errEnd)
					}
					m.FlushCache()
					if token != "" && m.Uncached(ctx, token) != nil {
						lost["a session the ended trust signed in is live after the end"]++
					}
					list, err := Sessions(ctx, il, "example.com", user, now)
					if err != nil {
						t.Fatal(err)
					}
					for _, s := range list {
						if s.Where.Trust == tb.ID {
							lost["a session of the ended trust is listed live after the end"]++
						}
					}
				}}
		}
		return []race{{endVsTrustedSignIn, 2}}
	})
}

// madeTrust makes a trust of user's, earned by amr at authTime, for a test
// that signs in by it (IssueTrusted stands only while its trust does).
func madeTrust(t *testing.T, m *Manager, user string, amr []string, authTime int64) *TrustedBrowser {
	t.Helper()
	_, tb, err := m.Trust(context.Background(), Began{}, user, "", "", "a browser", amr, authTime, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}
