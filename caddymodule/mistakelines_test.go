package caddymodule

import (
	"fmt"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
)

// TestANumberPolicyMistakeNamesItsLine: a mistake in the number policy
// names its own option's line, not allowed_regions' (written on the line
// before it), and a default_region that is no region is refused there.
// Before, a prefix, a number type or one channel's regions wrong was
// reported at allowed_regions' line, and default_region XX loaded: every
// number typed without its country code was then refused.
func TestANumberPolicyMistakeNamesItsLine(t *testing.T) {
	t.Parallel()
	for option, want := range map[string]string{
		"deny_prefixes +44 44":     `number prefix "44" must be + and digits`,
		"allow_prefixes +44 x":     `number prefix "x" must be + and digits`,
		"number_types sms bogus":   `number_types sms: unknown type "bogus"`,
		"allowed_regions voice ZZ": `allowed_regions: "ZZ" is not a region code`,
		"default_region XX":        `default_region "XX" is not a region code`,
	} {
		cfg := "localhost {\n\tsmsgate {\n\t\tidentity none\n\t\tallowed_regions GB\n\t\t" + option + "\n\t\tprovider log\n\t}\n}\n"
		_, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(cfg), map[string]any{"filename": "Caddyfile"})
		if err == nil || !strings.Contains(err.Error(), want) || !strings.HasSuffix(err.Error(), "at Caddyfile:5") {
			t.Errorf("%s on line 5: %v; want %q at Caddyfile:5", option, err, want)
		}
	}
}

// TestAProviderMissingAnOptionNamesItsLine: a Twilio or Signal provider
// without an option it cannot send without is refused when the Caddyfile
// is adapted, at the provider's line. Before, `caddy adapt` passed it, and
// the load (or `caddy validate`) failed at the provider's Provision with no
// line ("provision smsgate.providers.twilio: account_sid is required").
func TestAProviderMissingAnOptionNamesItsLine(t *testing.T) {
	t.Parallel()
	for provider, want := range map[string]string{
		"provider twilio {\n\t\t\tauth_token {env.TWILIO_TOKEN}\n\t\t\tfrom +15005550006\n\t\t}":     "twilio: account_sid is required",
		"provider twilio {\n\t\t\taccount_sid AC123\n\t\t\tfrom +15005550006\n\t\t}":                 "twilio: auth_token is required",
		"provider twilio {\n\t\t\taccount_sid AC123\n\t\t\tapi_key SK123\n\t\t}":                     "twilio: api_key needs its api_secret",
		"provider twilio {\n\t\t\taccount_sid AC123\n\t\t\tauth_token x\n\t\t\tapi_key SK123\n\t\t}": "twilio: api_key needs its api_secret",
		"provider signal {\n\t\t\tnumber +15005550006\n\t\t}":                                        "signal needs a url and a number",
		"provider signal http://signal.internal:8080":                                                "signal needs a url and a number",
	} {
		cfg := "example.com {\n\tsmsgate {\n\t\tidentity none\n\t\t" + provider + "\n\t}\n}\n"
		_, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(cfg), map[string]any{"filename": "Caddyfile"})
		if err == nil || !strings.Contains(err.Error(), want) || !strings.HasSuffix(err.Error(), "at Caddyfile:4") {
			t.Errorf("%s on line 4: %v; want %q at Caddyfile:4", provider, err, want)
		}
	}
}

// TestAnUnknownChannelIsRefusedAtItsLine: wherever a Caddyfile names a
// channel — the gate's channels, number_types, a price, a webhook's
// channels, Twilio Lookup's refuse_types — a word that is none is refused
// at its own line in factor.ParseChannel's words. Before, refuse_types
// was refused at its provider's line, not its own, a webhook's and a
// price's were checked by copies of the message, and number_types and
// refuse_types did not say which words a channel may be.
func TestAnUnknownChannelIsRefusedAtItsLine(t *testing.T) {
	t.Parallel()
	const want = `unknown channel "fax": use sms or voice`
	for _, tc := range []struct {
		lines string // from line 4 of the smsgate block
		line  int
	}{
		{"channels sms fax\n\t\tprovider log", 4},
		{"provider log\n\t\tnumber_types fax mobile", 5},
		{"provider log\n\t\tcosts {\n\t\t\tprice GB fax 0.05\n\t\t}", 6},
		{"provider webhook https://hooks.example.com/send {\n\t\t\tchannels sms fax\n\t\t}", 5},
		{"provider twilio {\n\t\t\taccount_sid AC123\n\t\t\tauth_token x\n\t\t\tfrom +15005550006\n\t\t\tlookup {\n\t\t\t\trefuse_types fax landline\n\t\t\t}\n\t\t}", 9},
	} {
		cfg := "example.com {\n\tsmsgate {\n\t\tidentity none\n\t\t" + tc.lines + "\n\t}\n}\n"
		_, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(cfg), map[string]any{"filename": "Caddyfile"})
		if at := fmt.Sprintf("Caddyfile:%d", tc.line); err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), at) {
			t.Errorf("%q: %v; want %q at %s", tc.lines, err, want, at)
		}
	}
}
