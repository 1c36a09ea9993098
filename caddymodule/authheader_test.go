package caddymodule_test

import (
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAnAuthHeaderTheClientWritesIsRefused: a portal's forward-auth check
// is the client's request, its headers passed on by the proxy. With
// `auth_header Remote-User {http.request.header.X-User}` the check's 200
// named whoever the client wrote in X-User, and the app believed it:
// anyone signed in was anyone. Refused from the Caddyfile (with its line)
// and from JSON; the session's own placeholders and fixed text load.
func TestAnAuthHeaderTheClientWritesIsRefused(t *testing.T) {
	sitetest.Parallel(t)
	for _, tc := range []struct{ value, placeholder string }{
		{"{http.request.header.X-User}", "http.request.header.X-User"},
		{"user-{http.request.cookie.name}", "http.request.cookie.name"},
		{"{http.request.uri.query.user}", "http.request.uri.query.user"},
		{"{http.request.header.Remote-User}", "http.request.header.Remote-User"},
	} {
		t.Run(tc.placeholder, func(t *testing.T) {
			refusedFromBoth(t, "auth_header X-Groups staff\n\t\tauth_header Remote-User "+tc.value, `"auth_headers": {"Remote-User": "`+tc.value+`"}`,
				"Caddyfile:12", "auth_header Remote-User "+tc.value+": {"+tc.placeholder+"} is whatever the client sends", "{"+tc.placeholder+"} is whatever the client sends")
		})
	}
	// A misspelt name of the gate's loaded, and was empty in every 200:
	// the app named no one, and nginx's example (which refuses a 200
	// without Remote-User) let no one in.
	t.Run("smsgate.usr", func(t *testing.T) {
		refusedFromBoth(t, "auth_header Remote-User {smsgate.usr}", `"auth_headers": {"Remote-User": "{smsgate.usr}"}`,
			"Caddyfile:11", "auth_header Remote-User {smsgate.usr}: {smsgate.usr} is no placeholder of the gate's: use {smsgate.user}, {smsgate.amr}, {smsgate.auth_time} or {smsgate.assertion}", "{smsgate.usr} is no placeholder of the gate's")
	})
	// The assertion is signed only with assertion_header: without it, the
	// header loaded, and was empty in every answer.
	t.Run("smsgate.assertion", func(t *testing.T) {
		refusedFromBoth(t, "auth_header X-Assertion {smsgate.assertion}", `"auth_headers": {"X-Assertion": "{smsgate.assertion}"}`,
			"Caddyfile:11", "auth_header X-Assertion {smsgate.assertion}: {smsgate.assertion} is signed only with assertion_header", "{smsgate.assertion} is signed only with assertion_header")
	})
	if _, err := adaptFile(t, `http://localhost:8080 {
	basic_auth argon2id {
		alice `+sitetest.DemoHash+`
	}
	smsgate {
		provider log
		auth_header Remote-User {smsgate.user}
		auth_header X-Auth-User {http.auth.user.id}
		auth_header X-Amr {smsgate.amr}
		auth_header X-Groups staff
		signing_alg EdDSA
		assertion_header X-Smsgate-Assertion
		auth_header X-Assertion {smsgate.assertion}
	}
}`); err != nil {
		t.Fatalf("the session's own placeholders: %v", err)
	}
}

// refusedFromBoth: a gate with options (lines of its Caddyfile block, the
// first on line 11) is refused with want and the line, and the same gate
// in JSON (fields, its options) with jsonWant.
func refusedFromBoth(t *testing.T, options, fields, line, want, jsonWant string) {
	t.Helper()
	sitetest.AssertLoadError(t, `{
	admin localhost:{ADMIN_PORT}
}
http://localhost:{HTTP_PORT} {
	basic_auth argon2id {
		alice `+sitetest.DemoHash+`
	}
	smsgate {
		store badger {DIR}
		provider log
		`+options+`
	}
}`, want, line)
	sitetest.AssertJSONLoadError(t, `{"admin": {"listen": "localhost:{ADMIN_PORT}"}, "apps": {"http": {"http_port": {HTTP_PORT}, "servers": {"s": {"listen": [":{HTTP_PORT}"], "routes": [{"handle": [
	{"handler": "smsgate", "realm": "localhost", "identity": "none", "store": {"module": "badger", "path": "`+t.TempDir()+`"}, "providers": [{"provider": "log"}],
	 `+fields+`}]}]}}}}}`, jsonWant)
}

// TestAnAuthHeaderThatIsNoHeaderNameIsRefused: auth_header with a name no
// header has (Remote-User:, its colon copied from a header line) is
// refused at its line. Before, it loaded, and every check's answer
// carried a header no proxy reads as Remote-User: the app named no one.
func TestAnAuthHeaderThatIsNoHeaderNameIsRefused(t *testing.T) {
	t.Parallel()
	const want = `is no header name: a name is letters, digits and -, without a colon, like Remote-User`
	refusedFromBoth(t, "auth_header Remote-User: {smsgate.user}", `"auth_headers": {"Remote-User:": "{smsgate.user}"}`, "Caddyfile:11", want, want)
}

// TestAuthHeadersNamedOnlyByCaseApartAreRefused (attack40b H2): `auth_header
// Remote-User {smsgate.user}` beside `auth_header remote-user {smsgate.amr}`
// loaded (the Caddyfile's "given twice" compared the names as written), and
// the check's answer set the one header from both lines in a map's random
// order: the app got `carol` or `sms` as Remote-User by turns (37 of 40
// `sms`). Refused with both lines from the Caddyfile, and from JSON.
func TestAuthHeadersNamedOnlyByCaseApartAreRefused(t *testing.T) {
	sitetest.Parallel(t)
	refusedFromBoth(t, "auth_header Remote-User {smsgate.user}\n\t\tauth_header remote-user {smsgate.amr}",
		`"auth_headers": {"Remote-User": "{smsgate.user}", "remote-user": "{smsgate.amr}"}`,
		"Caddyfile:12", "auth_header remote-user and auth_header Remote-User (Caddyfile:11) name one header: header names ignore case",
		"auth_header remote-user and auth_header Remote-User name one header: header names ignore case")
}
