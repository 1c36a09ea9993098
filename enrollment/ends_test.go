package enrollment

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/store"
)

// TestAnExportCarriesTheEndsOfSessions: an export carries the store's live
// ends of single sessions with their expiry, and of trusts (no expiry, as
// the store keeps them); an import writes each for what is left of it,
// keeps the later where the store holds one (and the store's value: a
// logout's announcement is the store's), writes none already over, and
// takes an export of the previous release (no ends, no "until"). On Badger
// and on a real Redis. Before, an export carried none
// (TestAMoveBringsNoLoggedOutSessionBack).
func TestAnExportCarriesTheEndsOfSessions(t *testing.T) {
	t.Parallel()
	onRaceStores(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		s, _, _ := raceService(t, st)
		admin := &Admin{Core: s.Core, Devices: s.Devices}
		logout, ended, trust := endkeys.Session(realm, "s1"), endkeys.Session(realm, "s2"), endkeys.Trust(realm, "t1")
		put := func(key, value string, ttl time.Duration) {
			t.Helper()
			if err := st.Put(ctx, key, []byte(value), ttl); err != nil {
				t.Fatal(err)
			}
		}
		wrote := time.Now()
		put(logout, "announced", time.Hour)
		put(ended, "\x01", 2*time.Hour)
		put(trust, "\x01", 0)
		put(endkeys.Session("other.example", "s9"), "announced", time.Hour) // another realm's
		export, err := admin.Export(ctx, realm, false)
		if err != nil {
			t.Fatal(err)
		}
		exported := time.Now()
		carried := map[string]*time.Time{}
		for _, r := range export {
			if isEnd(r.Key) || len(r.Key) > 4 && isEnd(r.Key[4:]) {
				carried[r.Key] = r.Until
			}
		}
		if len(carried) != 3 {
			t.Fatalf("the export carries %d ends of realm %s, not 3: %v", len(carried), realm, carried)
		}
		// near checks an expiry the store read back against the one written
		// want after a write begun at from, the read back ending by to: the
		// store's expiry is real time (the clock the code uses), so it is
		// bracketed by the two readings of that clock, not by a fixed margin
		// that a slow run outlasts. Badger keeps whole seconds (a second
		// sooner at most); Redis's read back is asked+PTTL, as much sooner
		// as the read took (to-from bounds it); neither is ever later.
		near := func(what string, got time.Time, want time.Duration, from, to time.Time) {
			t.Helper()
			if got.Before(from.Add(want-to.Sub(from)-time.Second)) || got.After(to.Add(want)) {
				t.Errorf("%s ends %v after the write, not %v (written between %v and %v later)",
					what, got.Sub(from).Round(time.Second), want, want, want+to.Sub(from))
			}
		}
		if u := carried["b64:"+ended]; u == nil {
			t.Fatal("the admin's end of a session is carried with no expiry")
		} else {
			near("the carried end", *u, 2*time.Hour, wrote, exported)
		}
		if u, ok := carried["b64:"+trust]; !ok || u != nil {
			t.Errorf("the end of a trust: carried %v, until %v (want carried, with no expiry)", ok, u)
		}

		// A new store: an earlier end of s1 there (a shorter TTL, another
		// value), s2's later there, and ends already over in the file.
		for _, key := range []string{logout, ended, trust} {
			if err := st.Delete(ctx, key); err != nil {
				t.Fatal(err)
			}
		}
		rewrote := time.Now()
		put(logout, "logout", 10*time.Minute)
		put(ended, "\x01", 3*time.Hour)
		past := time.Now().Add(-time.Minute)
		over := Record{Key: "b64:" + endkeys.Session(realm, "s3"), Value: json.RawMessage(`"AQ=="`), Until: &past}
		raw, _ := json.Marshal(append(export, over))
		var file []Record
		if err := json.Unmarshal(raw, &file); err != nil {
			t.Fatal(err)
		}
		if _, err := admin.Import(ctx, file); err != nil {
			t.Fatal(err)
		}
		held := map[string]time.Time{}
		values := map[string]string{}
		for _, prefix := range endkeys.Carried {
			if err := st.(store.Expiring).ScanExpiring(ctx, prefix, func(key string, value []byte, expires time.Time) error {
				held[key], values[key] = expires, string(value)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		read := time.Now()
		near("the logout's end, earlier in the store", held[logout], time.Hour, wrote, read) // the file's
		if values[logout] != "logout" {
			t.Errorf("the store's value of the logout's end became %q", values[logout])
		}
		near("the admin's end, later in the store", held[ended], 3*time.Hour, rewrote, read)
		if at, ok := held[trust]; !ok || !at.IsZero() {
			t.Errorf("the trust's end: written %v, expiring %v (want written, no expiry)", ok, at)
		}
		if _, ok := held[endkeys.Session(realm, "s3")]; ok {
			t.Error("an end already over was written")
		}

		// An export of the previous release: no ends, no "until".
		old := `[{"key":"` + store.Key("revoked-user", realm, "bob") + `","value":"2026-11-20T10:00:00Z"}]`
		if err := json.Unmarshal([]byte(old), &file); err != nil {
			t.Fatal(err)
		}
		if _, err := admin.Import(ctx, file); err != nil {
			t.Fatalf("an export of the previous release: %v", err)
		}
	})
}
