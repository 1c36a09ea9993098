package caddymodule_test

import "testing"

// TestAUserThePolicyRefusesIsRefusedWhereAPhoneCodeIsRequired: a gate that
// takes an app too (factors sms totp) but requires a texted code (require
// sms) admits no session earned without one, so a provisioned user whose
// number the policy refuses for texts can never pass it, app or not. It
// loaded at 60ccfa8 (this test fails there), warning that "only an app or
// passkey enrolled before signs them in", which this gate never takes
// alone. The kinds that can pass are require's where it names any.
func TestAUserThePolicyRefusesIsRefusedWhereAPhoneCodeIsRequired(t *testing.T) {
	t.Parallel()
	const want = `its country (US) is not in allowed_regions`
	refusedFromBoth(t, "factors sms totp\n\t\trequire sms\n\t\tallowed_regions GB\n\t\tuser carol +14155552671",
		`"factors": ["sms", "totp"], "require": ["sms"], "allowed_regions": ["GB"], "users": [{"name": "carol", "phone": "+14155552671"}]`,
		"Caddyfile:14", want, want)
	// Texts reach GB, calls the US: require sms still leaves carol out.
	refusedFromBoth(t, "channels sms voice\n\t\tfactors sms voice totp\n\t\trequire sms\n\t\tallowed_regions sms GB\n\t\tallowed_regions voice US\n\t\tuser carol +14155552671",
		`"channels": ["sms", "voice"], "factors": ["sms", "voice", "totp"], "require": ["sms"], "channel_regions": {"sms": ["GB"], "voice": ["US"]}, "users": [{"name": "carol", "phone": "+14155552671"}]`,
		"Caddyfile:16", want, want)
}
