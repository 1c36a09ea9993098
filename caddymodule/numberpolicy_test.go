package caddymodule_test

import (
	"os"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAPolicyThatAdmitsNoOneIsRefused: a number policy that can never let
// a code through is refused at its line. A provisioned user whose number
// the policy refuses on every channel (outside allowed_regions, a denied
// prefix) could never sign in; allow_prefixes +1 with deny_prefixes +1
// admits no number at all. Both loaded silently, and each sign-in was
// refused only once someone tried. A user is refused so only where the
// gate takes phone codes alone (factors sms, voice): an app or passkey
// may sign them in (TestAUserThePolicyRefusesLoadsWhereAnAppSignsIn).
func TestAPolicyThatAdmitsNoOneIsRefused(t *testing.T) {
	sitetest.Parallel(t)
	for _, tc := range []struct{ name, options, fields, line, want string }{
		{"outside allowed_regions", "factors sms\n\t\tallowed_regions GB\n\t\tuser carol +14155552671",
			`"factors": ["sms"], "allowed_regions": ["GB"], "users": [{"name": "carol", "phone": "+14155552671"}]`,
			"Caddyfile:13", `its country (US) is not in allowed_regions: it can never be sent a code`},
		{"a denied prefix", "factors sms\n\t\tdeny_prefixes +1415\n\t\tuser carol +14155552671",
			`"factors": ["sms"], "deny_prefixes": ["+1415"], "users": [{"name": "carol", "phone": "+14155552671"}]`,
			"Caddyfile:13", `allow_prefixes or deny_prefixes refuse it`},
		{"allowed for calls only", "factors sms\n\t\tallowed_regions sms GB\n\t\tuser carol +14155552671",
			`"factors": ["sms"], "channel_regions": {"sms": ["GB"]}, "users": [{"name": "carol", "phone": "+14155552671"}]`,
			"Caddyfile:13", `its country (US) is not in allowed_regions`},
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

// TestAUserThePolicyRefusesLoadsWhereAnAppSignsIn: where a gate takes an
// app or a passkey too, a provisioned user whose number the policy refuses
// may sign in with one enrolled before (a policy tightened, or an upgrade
// that refuses what loaded before): the gate loads and warns, naming the
// user and a masked number, never the whole. Refused only where phone
// codes are all it takes (TestAPolicyThatAdmitsNoOneIsRefused).
func TestAUserThePolicyRefusesLoadsWhereAnAppSignsIn(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	smsgate {
		store badger {DIR}
		provider log
		identity none
		factors sms totp
		allowed_regions GB
		user carol +14155552671
	}
	respond "app"
}`)
	warned := s.LogEntries("a provisioned user's number the number policy refuses: only an app or passkey enrolled before signs them in")
	if len(warned) != 1 || warned[0]["user"] != "carol" {
		t.Fatalf("warnings: %v", warned)
	}
	if raw, _ := os.ReadFile(s.LogFile); strings.Contains(string(raw), "4155552671") {
		t.Error("the log names carol's whole number")
	}
}

// TestAPhoneThatDoesNotParseIsMaskedInTheLoadError: a provisioned user's
// number that does not parse is refused with the user's name and the
// number masked as the logs mask numbers typed (all but its last three
// digits), in a Caddyfile and in JSON: the error reaches Caddy's log.
// Before, it quoted the whole number.
func TestAPhoneThatDoesNotParseIsMaskedInTheLoadError(t *testing.T) {
	t.Parallel()
	const want = `user \"alice\": phone \"•••••••671\": Enter a phone number in international format` // as the admin API's JSON answer quotes it
	refusedFromBoth(t, "user alice 4155552671", `"users": [{"name": "alice", "phone": "4155552671"}]`, "Caddyfile:11", want, want)
}
