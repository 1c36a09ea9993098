package admin

import (
	"strings"
	"testing"
)

// TestAGateWhoseJSONDoesNotReadIsNamed: a stopped Caddy's config with two
// gates, one of which does not decode (require is not a list). Before, the
// CLI skipped it without a word and took the other gate as "the only
// realm" (or said no gate served its realm): its command ran on a store
// the admin did not mean. Now it is an error naming the gate, where it is
// in the config and its realm.
func TestAGateWhoseJSONDoesNotReadIsNamed(t *testing.T) {
	t.Parallel()
	const config = `{"apps": {"http": {"servers": {"srv0": {"routes": [{"handle": [
		{"handler": "smsgate", "realm": "site.example", "store": {"module": "badger", "path": "/a"}},
		{"handler": "smsgate", "realm": "admin.example", "require": "sms", "store": {"module": "badger", "path": "/b"}}
	]}]}}}}}`
	for _, realm := range []string{"", "admin.example", "site.example"} {
		g, err := configuredSite([]byte(config), realm)
		if err == nil {
			t.Fatalf("realm %q: the gate that does not read was skipped: realm %s", realm, g.Realm)
		}
		t.Logf("realm %q: %v", realm, err)
		for _, want := range []string{"apps.http.servers.srv0.routes[0].handle[1]", `realm "admin.example"`, "does not read", "require"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("realm %q: %v; want %q in it", realm, err, want)
			}
		}
	}
	// Both read: each realm finds its own gate.
	fixed := strings.Replace(config, `"require": "sms"`, `"require": ["sms"]`, 1)
	for _, realm := range []string{"admin.example", "site.example"} {
		if g, err := configuredSite([]byte(fixed), realm); err != nil || g.Realm != realm {
			t.Fatalf("realm %s: %v %v", realm, g, err)
		}
	}
}
