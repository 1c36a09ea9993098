package caddymodule_test

import (
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestTwoGatesOfARealmOnOneRedisWrittenTwoWaysEndNothingAtAReload: gates
// a and b of realm sso.localhost give carol a number each, on one Redis
// whose address gate b writes by name (localhost) where a writes it by
// number (127.0.0.1); a third gate, of another realm, on it too. They are
// one realm on one store: the session carol earned at a counts at b, and
// reloading the same config ends none of her sessions. Through a real
// Caddy's reloads. (Before, each spelling was a realm of its own: b
// refused a's session, and each settle found the other's number in the
// store's record, took it for a lost phone, and ended her sessions at
// every load.)
func TestTwoGatesOfARealmOnOneRedisWrittenTwoWaysEndNothingAtAReload(t *testing.T) {
	sitetest.Parallel(t)
	addr := redistest.Server(t)
	byName := "localhost:" + strings.TrimPrefix(addr, "127.0.0.1:")
	config := realmsGiving("store redis "+addr, "+14155552671", "+447400123456")    // gates a, b, o
	config = strings.Replace(config, "store redis "+addr, "store redis "+byName, 2) // a's and b's
	config = strings.Replace(config, "store redis "+byName, "store redis "+addr, 1) // a's back
	if strings.Count(config, byName) != 1 {
		t.Fatalf("the config writes the address by name %d times", strings.Count(config, byName))
	}
	s := sitetest.Start(t, config)
	carol := sitetest.NewClient(t, "")
	carolAt(t, s, carol, "a.sso.localhost")
	for i := range 3 {
		carol.HTTP.CloseIdleConnections()
		for _, host := range []string{"a.sso.localhost", "b.sso.localhost"} {
			if res := carol.GetURL(absolute(s, host, "/")); !strings.Contains(res.Text, host+" carol") {
				t.Errorf("after %d loads, carol's session at %s: %d %s", i+1, host, res.StatusCode, res.Text)
			}
		}
		if n := len(s.LogEntries("provisioned_number_changed")); n != 0 {
			t.Errorf("after %d loads, %d settles took a number of the realm for a lost one", i+1, n)
		}
		s = sitetest.Start(t, config)
	}
}
