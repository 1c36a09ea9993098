package session

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestADroppedGenerationBringsNoGivenUpCookieBack (trust39), on Badger
// and a real Redis: a rolling upgrade. alice's browser, trusted here, is
// trusted again a minute later (generation 1); then a gate of the
// previous release (b81c7ea, which knows no gen) trusts another browser
// of hers and writes the record back as it reads it: her renewed trust
// without its gen, and the new one in its form. The browser's first
// cookie, given up at the re-trust, is of generation 0 as the record now
// reads, and must not sign in again; the renewed cookie is refused (its
// generation is gone: a code asked once), the other browser's signs in,
// and a re-trust here from the renewed cookie renews the same trust, past
// the generation its cookie names. (Before, the first cookie signed in
// again once the previous release had rewritten the record.)
func TestADroppedGenerationBringsNoGivenUpCookieBack(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
		m, _ := gatesOn(t, st, &now)
		first, id := retrust(t, m, &now, "")
		renewed, _ := retrust(t, m, &now, first)

		// The previous release's gate: it reads the record into its own
		// form (no gen), adds its trust, and writes it back.
		now = now.Add(time.Minute)
		key := trustedKey("example.com", "alice")
		raw, err := st.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		var list []map[string]any
		if err := json.Unmarshal(raw, &list); err != nil || len(list) != 1 || list[0]["gen"] != float64(1) {
			t.Fatalf("the re-trust's record: %s, %v", raw, err)
		}
		delete(list[0], "gen")
		at := func(tm time.Time) string { return tm.Format(time.RFC3339Nano) }
		var old map[string]any
		if err := json.Unmarshal(fmt.Appendf(nil, `{"id":"OLDTRUST00000002","browser":"Firefox","created":%q,"expires":%q,"auth_time":%d,"amr":["sms"],"known":"K2","prefixed":true,"issued":%q,"device":""}`,
			at(now), at(now.Add(time.Hour)), now.Unix(), at(now)), &old); err != nil {
			t.Fatal(err)
		}
		if raw, err = json.Marshal(append(list, old)); err != nil {
			t.Fatal(err)
		}
		if err := st.Put(ctx, key, raw, 2*time.Hour); err != nil {
			t.Fatal(err)
		}
		other, err := m.trustKeys().Sign(Claims{RegisteredClaims: m.trustKeys().NewClaimsAt("example.com", "alice", time.Hour, now), SID: "OLDTRUST00000002", AuthTime: now.Unix()})
		if err != nil {
			t.Fatal(err)
		}
		expectTrusted(t, m, 2, map[string]error{first: ErrNotTrusted, renewed: ErrNotTrusted, other: nil})

		now = now.Add(time.Minute)
		again, tb, err := m.TrustHeld(ctx, m.Begin(), "alice", renewed, "K1", time.Time{}, Where{Browser: "Firefox"}, "D1", []factor.AMR{factor.AMRSMS}, now.Unix(), time.Hour)
		if err != nil || tb.ID != id || tb.Gen != 2 {
			t.Fatalf("the re-trust from the renewed cookie: %+v, %v; want %s of generation 2", tb, err, id)
		}
		expectTrusted(t, m, 2, map[string]error{first: ErrNotTrusted, renewed: ErrNotTrusted, again: nil, other: nil})
	})
}
