package enrollment

import (
	"context"
	"testing"

	"github.com/smsgate/caddy-smsgate/factor"
)

// TestDeviceKindsAsEarlierReleasesWroteThem: a device record an earlier
// release wrote, with a phone (no kind), an app ("totp") and a passkey
// ("passkey"), reads from a real store as those kinds; an app's kind is
// the Caddyfile's name for apps, named once (factor.TOTP).
func TestDeviceKindsAsEarlierReleasesWroteThem(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newService(t)
	raw := `[{"id":"p1","name":"work phone","phone":"+14155552671","enrolled":"2026-11-01T10:00:00Z"},` +
		`{"id":"a1","kind":"totp","secret":"sealed","name":"phone app","enrolled":"2026-11-02T10:00:00Z"},` +
		`{"id":"k1","kind":"passkey","credential":{},"name":"laptop","enrolled":"2026-11-03T10:00:00Z"}]`
	if err := s.Store.Put(ctx, deviceKey(realm, alice), []byte(raw), 0); err != nil {
		t.Fatal(err)
	}
	list, err := s.Devices.List(ctx, realm, alice)
	if err != nil || len(list) != 3 {
		t.Fatalf("the record: %+v, %v", list, err)
	}
	kinds := map[string]string{}
	for _, d := range list {
		kinds[d.ID] = d.Kind
	}
	if kinds["p1"] != KindPhone || kinds["a1"] != KindApp || kinds["k1"] != KindPasskey || !HasKind(list, KindApp) || !HasKind(list, KindPasskey) {
		t.Fatalf("kinds read: %v", kinds)
	}
	if KindApp != string(factor.TOTP) || factor.TOTP != "totp" || KindPasskey != "passkey" || KindPhone != "" {
		t.Fatalf("the kinds records hold changed: %q %q %q", KindPhone, KindApp, KindPasskey)
	}
}
