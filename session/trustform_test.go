package session

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// TestATrustKeepsItsBrowserAndSystemApart (trust37): a trust's record
// holds the browser's kind and system by name, as a session's Where does
// ("browser": "Firefox", "system": "Linux": no words of the page that
// trusted it, no host), each bounded as Where's; a record the previous
// release wrote (its whole name worded in "browser", no "system") reads
// as it is, and stays so when the list is written again (a new trust
// beside it). Before, the record held "Firefox unter Linux". On Badger
// and a real Redis.
func TestATrustKeepsItsBrowserAndSystemApart(t *testing.T) {
	t.Parallel()
	storetest.OnBadgerAndRedis(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
		m := gateOn(t, st, &now)
		old := `[{"id":"OLDTRUSTOFCAROL1","browser":"Firefox unter Linux","created":"2026-12-01T10:00:00Z","expires":"2026-12-31T10:00:00Z","auth_time":1764583200,"amr":["sms"],"known":"K","prefixed":true,"issued":"2026-12-01T10:00:00Z","device":""}]`
		if err := st.Put(ctx, trustedKey("example.com", "carol"), []byte(old), 30*24*time.Hour); err != nil {
			t.Fatal(err)
		}
		long := strings.Repeat("x", 200)
		if _, _, err := m.TrustHeld(ctx, Began{}, "carol", "", "", time.Time{}, Where{Host: "wiki.example.com", Browser: "Firefox", System: "Linux"}, "", []factor.AMR{factor.AMRSMS}, now.Unix(), time.Hour); err != nil {
			t.Fatal(err)
		}
		if _, _, err := m.TrustHeld(ctx, Began{}, "carol", "", "", time.Time{}, Where{Browser: long}, "", []factor.AMR{factor.AMRSMS}, now.Unix(), time.Hour); err != nil {
			t.Fatal(err)
		}
		raw, err := st.Get(ctx, trustedKey("example.com", "carol"))
		if err != nil {
			t.Fatal(err)
		}
		var stored []map[string]any
		if err := json.Unmarshal(raw, &stored); err != nil || len(stored) != 3 {
			t.Fatalf("the record: %s (%v)", raw, err)
		}
		if o, n := stored[0], stored[1]; o["browser"] != "Firefox unter Linux" || o["system"] != nil ||
			n["browser"] != "Firefox" || n["system"] != "Linux" || strings.Contains(string(raw), "wiki.example.com") || strings.Contains(string(raw), " on ") {
			t.Errorf("the record holds %s; want the old trust as it was, the new one's browser and system apart", raw)
		}
		list, err := m.TrustedBrowsers(ctx, "carol")
		if err != nil || len(list) != 3 {
			t.Fatalf("listed %+v, %v", list, err)
		}
		if o, n, l := list[0], list[1], list[2]; o.Browser != "Firefox unter Linux" || o.System != "" || o.Known != "K" ||
			n.Browser != "Firefox" || n.System != "Linux" || len(l.Browser) != maxWhere {
			t.Errorf("listed %+v", list)
		}
	})
}
