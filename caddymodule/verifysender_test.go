package caddymodule_test

import (
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAVerifyProviderWithoutASenderNamesItsLine (attack39b's 3): a Twilio
// Verify provider with neither from nor messaging_service_sid, as
// caddyfile-examples/twilio-verify.Caddyfile shipped it, is refused at the
// provider's line by a real Caddy's load, from a Caddyfile and from JSON:
// Verify sends the codes, but every notice to a user's phones is a text
// through the Messages API, which Twilio refuses with no sender (21603).
// Before, it loaded, and no notice ever reached a phone.
func TestAVerifyProviderWithoutASenderNamesItsLine(t *testing.T) {
	t.Parallel()
	const want = "twilio: verify_service sends the codes, but the notices to a user's phones (a lock, a swapped SIM, a device added or removed) are texts sent through the Messages API, which needs a sender: add from (a number) or messaging_service_sid"
	sitetest.AssertLoadError(t, `{
	admin localhost:{ADMIN_PORT}
}
http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		store badger {DIR}
		provider twilio {
			account_sid AC00000000000000000000000000000001
			auth_token t
			verify_service VA00000000000000000000000000000001
		}
	}
}`, want, "Caddyfile:8")
	sitetest.AssertJSONLoadError(t, `{"admin": {"listen": "localhost:{ADMIN_PORT}"}, "apps": {"http": {"http_port": {HTTP_PORT}, "servers": {"s": {"listen": [":{HTTP_PORT}"], "routes": [{"handle": [
	{"handler": "smsgate", "realm": "localhost", "identity": "none", "store": {"module": "badger", "path": "`+t.TempDir()+`"},
	 "providers": [{"provider": "twilio", "account_sid": "AC00000000000000000000000000000001", "auth_token": "t", "verify_service": "VA00000000000000000000000000000001"}]}]}]}}}}}`, want)
}
