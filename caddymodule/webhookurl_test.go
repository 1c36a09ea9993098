package caddymodule_test

import "testing"

// TestAWebhookWithoutAURLNamesItsLine: a webhook provider without a url is
// refused at the provider's line, by the rule Twilio's and Signal's
// options follow (providers' needs). Before, its Caddyfile parsing said so
// at the block's last line, and a JSON config's Provision in other words.
func TestAWebhookWithoutAURLNamesItsLine(t *testing.T) {
	t.Parallel()
	const want = "webhook needs a url: provider webhook https://…"
	refusedFromBoth(t, "provider webhook {\n\t\t\tfrom smsgate\n\t\t\tbearer t\n\t\t}",
		`"providers": [{"provider": "log"}, {"provider": "webhook", "from": "smsgate"}]`, "Caddyfile:11", want, want)
}
