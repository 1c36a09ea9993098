package caddymodule_test

import (
	"strings"
	"testing"
)

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

// TestAGatewayURLWithoutItsSchemeIsRefused: a webhook's or Signal's URL
// that is no http(s) URL with a host (the scheme left out, as in nginx's
// and Docker's address lines) is refused at the provider's line. Before,
// it loaded, and every send failed ("unsupported protocol scheme").
func TestAGatewayURLWithoutItsSchemeIsRefused(t *testing.T) {
	t.Parallel()
	for option, field := range map[string]string{
		"provider webhook gw.example.com/send":                                     `{"provider": "webhook", "url": "gw.example.com/send"}`,
		"provider signal signal.internal:8080 {\n\t\t\tnumber +15005550006\n\t\t}": `{"provider": "signal", "url": "signal.internal:8080", "number": "+15005550006"}`,
	} {
		t.Run(strings.Fields(option)[1], func(t *testing.T) {
			t.Parallel()
			const want = "must be an http or https URL with a host, such as https://gateway.example.com/send"
			refusedFromBoth(t, option, `"providers": [{"provider": "log"}, `+field+`]`, "Caddyfile:11", want, want)
		})
	}
}

// TestAWebhookBodyWithoutTheCodeIsRefused: a webhook body template that
// never says the code (neither {{.Body}} nor {{.Code}}) is refused at the
// provider's line. Before, it loaded, and every send was "delivered":
// the gateway got a message with nothing to type.
func TestAWebhookBodyWithoutTheCodeIsRefused(t *testing.T) {
	t.Parallel()
	const want = "webhook body template never says the code: write {{.Body}} (the whole text) or {{.Code}} in it"
	refusedFromBoth(t, "provider webhook https://gw.example.com/send {\n\t\t\tbody `{\"to\": \"{{.To}}\", \"from\": \"{{.From}}\"}`\n\t\t}",
		`"providers": [{"provider": "log"}, {"provider": "webhook", "url": "https://gw.example.com/send", "body": "{\"to\": \"{{.To}}\"}"}]`, "Caddyfile:11", want, want)
}
