package caddymodule_test

import (
	"fmt"
	"net/http"
	"net/url"
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
	cfg := fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	basic_auth argon2id {
		alice %[1]s
		bob %[1]s
	}
	smsgate {
		store redis %[2]s
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`, sitetest.DemoHash, r.Addr)
	s := sitetest.Start(t, cfg)
	alice := sitetest.NewClient(t, "alice")
	tok := alice.CSRF("/.smsgate/enroll")
	sitetest.Expect(t, alice.Post("/.smsgate/enroll", url.Values{"phone": {"+14155552671"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.ExpectEnrolled(t, alice.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), "/")

	r.Restart() // a new server at the address, empty (no append-only file)
	sitetest.Start(t, cfg)
	bob := sitetest.NewClient(t, "bob")
	res := bob.Get("/.smsgate/enroll")
	sitetest.Expect(t, res, http.StatusServiceUnavailable, "")
	sitetest.ExpectBody(t, res, "New enrollments are paused")
}
