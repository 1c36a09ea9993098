package caddymodule_test

import (
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestTwoUsersWithOneNumberAreRefused: with identity none, two user lines
// with one phone number (however it is written) are refused, both lines
// named, and in JSON both indices (behind a first factor, two accounts
// may share a phone). Before, the config loaded, and the
// number typed at the login form signed in as the last-listed user.
func TestTwoUsersWithOneNumberAreRefused(t *testing.T) {
	t.Parallel()
	refusedFromBoth(t, "identity none\n\t\tuser alice +14155552671\n\t\tuser bob \"+1 (415) 555-2671\"",
		`"users": [{"name": "alice", "phone": "+14155552671"}, {"name": "carol", "phone": "+14155550100"}, {"name": "bob", "phone": "+1 415 555 2671"}]`,
		"Caddyfile:13", `users alice and bob have one phone number (Caddyfile:12 and Caddyfile:13)`,
		`users alice and bob have one phone number (users[0] and users[2])`)
	// Behind a first factor no number names a user: two accounts may
	// share a phone.
	if _, err := adaptFile(t, `http://localhost:8080 {
	basic_auth argon2id {
		alice `+sitetest.DemoHash+`
	}
	smsgate {
		provider log
		user alice +14155552671
		user alice-admin +14155552671
	}
}`); err != nil {
		t.Fatalf("two accounts on one phone behind basic_auth: %v", err)
	}
}
