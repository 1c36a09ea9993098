package session

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestAReTrustInTheSameSecondRefusesTheEarlierCookie (review38 F2), on
// Badger and a real Redis: a browser's trust, made in the second its
// re-trust is made in (0.1 s and 0.8 s past it), as this release makes it
// and as the previous release wrote it (b81c7ea: no generation, in the
// record or the token). The earlier cookie, and a copy of it, no longer
// sign in; the re-trust's does. (Before, Trusted compared the token's
// issue time with the record's, both whole seconds: the earlier cookie
// still signed in.)
func TestAReTrustInTheSameSecondRefusesTheEarlierCookie(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 12, 1, 10, 0, 0, 100*int(time.Millisecond), time.UTC)
		m, _ := gatesOn(t, st, &now)
		amr := []factor.AMR{factor.AMRSMS}
		trust := func(user, held string) (string, string) {
			token, tb, err := m.TrustHeld(ctx, Began{}, user, held, "K1", time.Time{}, Where{Browser: "Firefox"}, "", amr, now.Unix(), time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			return token, tb.ID
		}
		earlier, id := trust("alice", "")

		// The previous release's: its record and its token, as it wrote them.
		at := func(tm time.Time) string { return tm.Format(time.RFC3339Nano) }
		record := fmt.Sprintf(`[{"id":"OLDTRUST00000001","browser":"Firefox","created":%q,"expires":%q,"auth_time":%d,"amr":["sms"],"known":"K1","prefixed":true,"issued":%q,"device":""}]`,
			at(now), at(now.Add(time.Hour)), now.Unix(), at(now.Truncate(time.Second)))
		if err := st.Put(ctx, trustedKey("example.com", "bob"), []byte(record), 2*time.Hour); err != nil {
			t.Fatal(err)
		}
		previous, err := m.trustKeys().Sign(Claims{RegisteredClaims: m.trustKeys().NewClaimsAt("example.com", "bob", time.Hour, now), SID: "OLDTRUST00000001", AuthTime: now.Unix()})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(record, "gen") {
			t.Fatal("the previous release's record names a generation")
		}
		if _, _, err := m.Trusted(ctx, previous); err != nil {
			t.Fatalf("the previous release's trust is refused: %v", err)
		}

		now = now.Add(700 * time.Millisecond) // the re-trusts: the same second
		again, same := trust("alice", earlier)
		renewed, old := trust("bob", previous)
		if same != id || old != "OLDTRUST00000001" {
			t.Fatalf("the re-trusts took IDs %s and %s, not %s and OLDTRUST00000001", same, old, id)
		}
		for name, token := range map[string]string{"alice's earlier cookie": earlier, "bob's previous release's cookie": previous} {
			if _, _, err := m.Trusted(ctx, token); err == nil {
				t.Errorf("%s still signs in after the re-trust in its second", name)
			}
		}
		for name, token := range map[string]string{"alice's": again, "bob's": renewed} {
			if _, _, err := m.Trusted(ctx, token); err != nil {
				t.Errorf("%s re-trust's cookie is refused: %v", name, err)
			}
		}
	})
}

// TestAGenerationDroppedByThePreviousReleaseRefuses, on Badger and a
// real Redis: in a rolling upgrade, an instance of the previous release
// that rewrites the trust record (it ends another of her trusts) drops the
// generation it does not know; a re-trusted browser's cookie then names
// a generation the record does not, and is refused (she types a code),
// never taken over a record that no longer says which cookie is current.
func TestAGenerationDroppedByThePreviousReleaseRefuses(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
		m, _ := gatesOn(t, st, &now)
		first, _ := retrust(t, m, &now, "")
		renewed, _ := retrust(t, m, &now, first)
		raw, err := st.Get(ctx, trustedKey("example.com", "alice"))
		if err != nil || !strings.Contains(string(raw), `"gen":1`) {
			t.Fatalf("the re-trust's record: %s, %v; want gen 1", raw, err)
		}
		dropped := strings.Replace(string(raw), `,"gen":1`, "", 1)
		if err := st.Put(ctx, trustedKey("example.com", "alice"), []byte(dropped), 2*time.Hour); err != nil {
			t.Fatal(err)
		}
		if _, _, err := m.Trusted(ctx, renewed); err == nil {
			t.Error("a cookie of generation 1 signs in on a record without its generation")
		}
	})
}
