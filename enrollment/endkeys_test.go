package enrollment

import (
	"context"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/endkeys"
)

// TestEndsAsThePreviousReleaseWroteThem: the records of ends the previous
// release's session package wrote (a logout, the admin's end of a trust,
// a user's revocation: testdata/previous-release.json, dumped from its
// real Badger store) have the keys that endkeys names, which session now
// writes and reads and enrollment carries, byte for byte; an export of
// that store carries each of them and an import into another store writes
// them back the same bytes under the same keys.
func TestEndsAsThePreviousReleaseWroteThem(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, records, _, _ := openPreviousRelease(t)
	var sid string
	for key := range records {
		if id, ok := strings.CutPrefix(key, "revoked/"+realm+"/"); ok {
			sid = id
		}
	}
	want := map[string]string{
		endkeys.Session(realm, sid): "announced",
		endkeys.Trust(realm, "T1"):  "\x01",
		endkeys.User(realm, alice):  `"2026-11-22T10:00:00Z"`,
	}
	held := 0
	for key, value := range records {
		if !strings.HasPrefix(key, "revoked") {
			continue
		}
		held++
		if w, ok := want[key]; !ok || w != value {
			t.Errorf("the previous release's %q = %q: endkeys names no such record (%v)", key, value, want)
		}
	}
	if sid == "" || held != len(want) {
		t.Fatalf("the previous release's ends: %d records, a logout's session %q", held, sid)
	}
	for key := range want {
		if isEnd(key) == strings.HasPrefix(key, endkeys.UserPrefix) {
			t.Errorf("%s: carried with its expiry = %v", key, isEnd(key))
		}
	}

	export, err := (&Admin{Core: s.Core, Devices: s.Devices}).Export(ctx, realm, false)
	if err != nil {
		t.Fatal(err)
	}
	other, _, _ := newService(t)
	if _, err := (&Admin{Core: other.Core, Devices: other.Devices}).Import(ctx, export); err != nil {
		t.Fatal(err)
	}
	for key, value := range want {
		got, err := other.Store.Get(ctx, key)
		if err != nil || string(got) != value {
			t.Errorf("%s after an export and an import: %q, %v; the previous release wrote %q", key, got, err, value)
		}
	}
}
