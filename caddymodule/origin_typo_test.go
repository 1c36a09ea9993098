package caddymodule_test

import (
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAnOriginNotAsBrowsersSendItIsRefused: public_origin is compared
// with the Origin browsers send (every POST) and is the passkeys' origin,
// so one written otherwise (a default port, a query, a fragment, a user)
// loaded and no POST from a browser was ever same-origin: no sign-in
// could finish (a host in another script did not load, the passkeys'
// error naming no fix). A portal_url with a query or a fragment sent every
// forward-auth check's browser to the portal's root, its login and return
// address in the query (https://auth.example.com?x/.smsgate/login?rd=…);
// one in another script went into the pages' CSP as no browser sends it.
func TestAnOriginNotAsBrowsersSendItIsRefused(t *testing.T) {
	sitetest.Parallel(t)
	for _, tc := range []struct{ option, want string }{
		{"public_origin https://app.localhost:443", "must be written as browsers send it: https://app.localhost, at"},
		{"public_origin http://localhost:80", "must be written as browsers send it: http://localhost, at"},
		{"public_origin https://app.localhost?x", "must be written as browsers send it: https://app.localhost, at"},
		{"public_origin https://app.localhost/#x", "must be written as browsers send it: https://app.localhost, at"},
		{"public_origin https://me@app.localhost", "must be written as browsers send it: https://app.localhost, at"},
		{"public_origin https://bücher.localhost:8443", "must be written as browsers send it: https://xn--bcher-kva.localhost:8443, at"},
		// A malformed port (empty, zero-led) loaded: no browser sends it.
		{"public_origin https://app.localhost:", "must be written as browsers send it: https://app.localhost, at"},
		{"public_origin https://app.localhost:0443", "must be written as browsers send it: https://app.localhost, at"},
		{"public_origin https://app.localhost:08443", "must be written as browsers send it: https://app.localhost:8443, at"},
		{"public_origin https://App.localhost", "must be written as browsers send it: https://app.localhost, at"},
		// site_origin may have a path and a default port (the passkeys
		// take its origin: TestPasskeysOnASiteOriginWithAPath); one with
		// no scheme names site_origin, not the passkeys.
		{"site_origin app.localhost/app", "site_origin must be a scheme and host such as https://app.example.com (a path may follow; no user, query or fragment), not \\\"app.localhost/app\\\", at"},
		{"site_origin https://app.localhost:99999/app", "site_origin must be a scheme and host such as https://app.example.com (a path may follow; no user, query or fragment), not"},
		// A user, query or fragment would sit inside every invite link
		// and delivery receipt callback built on it.
		{"site_origin https://me@app.localhost/app", "no user, query or fragment), not"},
		{"site_origin https://app.localhost/app?x=1", "no user, query or fragment), not"},
		{"site_origin https://app.localhost/app#f", "no user, query or fragment), not"},
		{"portal_url https://auth.localhost?x", "holds a query, a fragment or a user"},
		{"portal_url https://bücher.localhost/sso", "must be written as browsers send it: https://xn--bcher-kva.localhost/sso, at"},
		{"portal_url https://auth.localhost/sso#x", "holds a query, a fragment or a user"},
		{"portal_url https://auth.localhost:/sso", "must be written as browsers send it: https://auth.localhost/sso, at"},
	} {
		// (The error is JSON in the admin API's answer: its quotes escaped.)
		loadRefused(t, `http://localhost:{HTTP_PORT} {
	smsgate {
		store badger {DIR}
		provider log
		`+tc.option+`
	}
}`, tc.want, "Caddyfile:8")
	}
}
