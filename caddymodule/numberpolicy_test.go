package caddymodule_test

import (
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAPolicyThatAdmitsNoOneIsRefused: a number policy that can never let
// a code through is refused at its line. A provisioned user whose number
// the policy refuses on every channel (outside allowed_regions, a denied
// prefix) could never sign in; allow_prefixes +1 with deny_prefixes +1
// admits no number at all. Both loaded silently, and each sign-in was
// refused only once someone tried.
func TestAPolicyThatAdmitsNoOneIsRefused(t *testing.T) {
	sitetest.Parallel(t)
	for _, tc := range []struct{ name, options, fields, line, want string }{
		{"outside allowed_regions", "allowed_regions GB\n\t\tuser carol +14155552671",
			`"allowed_regions": ["GB"], "users": [{"name": "carol", "phone": "+14155552671"}]`,
			"Caddyfile:12", `its country (US) is not in allowed_regions: it can never be sent a code`},
		{"a denied prefix", "deny_prefixes +1415\n\t\tuser carol +14155552671",
			`"deny_prefixes": ["+1415"], "users": [{"name": "carol", "phone": "+14155552671"}]`,
			"Caddyfile:12", `allow_prefixes or deny_prefixes refuse it`},
		{"allowed for calls only", "allowed_regions sms GB\n\t\tuser carol +14155552671",
			`"channel_regions": {"sms": ["GB"]}, "users": [{"name": "carol", "phone": "+14155552671"}]`,
			"Caddyfile:12", `its country (US) is not in allowed_regions`},
		{"allow and deny +1", "allow_prefixes +1\n\t\tdeny_prefixes +1",
			`"allow_prefixes": ["+1"], "deny_prefixes": ["+1"]`,
			"Caddyfile:12", "deny_prefixes +1 refuses every number allow_prefixes +1 admits"},
		{"deny wider than allow", "allow_prefixes +44 +1900\n\t\tdeny_prefixes +1",
			`"allow_prefixes": ["+44", "+1900"], "deny_prefixes": ["+1"]`,
			"Caddyfile:12", "deny_prefixes +1 refuses every number allow_prefixes +1900 admits"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			refusedFromBoth(t, tc.options, tc.fields, tc.line, tc.want, tc.want)
		})
	}
	// What a policy still lets through loads: a number texts cannot
	// reach but calls can, and a narrower denial inside an allowed prefix.
	if _, err := adaptFile(t, `http://localhost:8080 {
	smsgate {
		identity none
		provider log
		channels sms voice
		allowed_regions sms GB
		allowed_regions voice US GB
		allow_prefixes +1 +44
		deny_prefixes +1900
		user carol +14155552671
		user dave +447400123456
	}
}`); err != nil {
		t.Fatalf("a policy that lets the users' numbers through: %v", err)
	}
}
