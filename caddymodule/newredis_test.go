package caddymodule_test

import (
	"net/http"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestANewRedisAtTheOldAddressIsTheStoreWiped: a gate knows a store by its
// config, not by the server behind it. A new, empty redis-server at the
// address of one that held users, and a config reloaded onto it, is that
// store wiped: enrollments pause until the admin accepts it (README, When
// Redis comes back empty). On purpose — the gate cannot tell the two apart
// — and the reason a test's redis-server must never get a port an earlier
// test's had in the same process (harness: TestAPortIsGivenOncePerProcess).
func TestANewRedisAtTheOldAddressIsTheStoreWiped(t *testing.T) {
	sitetest.Parallel(t)
	r := redistest.Start(t)
	cfg := redisSite(r.Addr, "alice", "bob")
	sitetest.Enroll(t, sitetest.Start(t, cfg), sitetest.NewClient(t, "alice"), "+14155552671")

	r.Restart() // a new server at the address, empty (no append-only file)
	sitetest.Start(t, cfg)
	bob := sitetest.NewClient(t, "bob")
	res := bob.Get("/.smsgate/enroll")
	sitetest.Expect(t, res, http.StatusServiceUnavailable, "")
	sitetest.ExpectBody(t, res, "New enrollments are paused")
}
