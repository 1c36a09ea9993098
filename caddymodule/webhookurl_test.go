package caddymodule_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
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

// TestARefusedGatewayURLIsQuotedWithoutItsKey: a gateway URL written in
// the Caddyfile (not from {env.*}) that is refused is quoted without its
// query and user info, where a key may live: the refusal goes to Caddy's
// log on a reload (attack26 F10; before: the URL whole, key and all).
func TestARefusedGatewayURLIsQuotedWithoutItsKey(t *testing.T) {
	t.Parallel()
	for provider, want := range map[string]string{
		"webhook ftp://x.example/send?key=SECRETKEY123":                                 `webhook url "ftp://x.example/send?…" must be`,
		"webhook {\n\t\t\turl ftp://user:SECRETPASS@x.example/send#SECRETFRAG\n\t\t}":   `webhook url "ftp://…@x.example/send?…" must be`,
		"signal x.example:8080/?token=SECRETKEY123 {\n\t\t\tnumber +15005550006\n\t\t}": `signal url "x.example:8080/?…" must be`,
	} {
		cfg := "localhost {\n\tsmsgate {\n\t\tidentity none\n\t\tstore badger " + t.TempDir() + "\n\t\tprovider " + provider + "\n\t}\n}\n"
		_, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(cfg), map[string]any{"filename": "Caddyfile"})
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "SECRET") {
			t.Errorf("%s: %v; want %q, no secret", provider, err, want)
		}
	}
}

// TestAWebhookBodyThatLosesCodesOrNoticesNamesItsLine (attack39b's 4): a
// body template that makes no JSON for a code with a leading zero
// (`"code": {{.Code}}` unquoted), or that leaves a notice's text out
// (README's body for a strict gateway was `"Body": "{{.Code}}"`), is
// refused at the provider's line by a real Caddy's load, from a Caddyfile
// and from JSON. Before, both loaded: one code in ten and every notice
// never sent, or every notice sent empty.
func TestAWebhookBodyThatLosesCodesOrNoticesNamesItsLine(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]string{
		`{"to": "{{.To}}", "code": {{.Code}}}`:                        "webhook body template does not make valid JSON for a code with a leading zero (012345)",
		`{"From": "{{.From}}", "To": "{{.To}}", "Body": "{{.Code}}"}`: "webhook body template never says a notice's text",
	} {
		quoted, _ := json.Marshal(body)
		refusedFromBoth(t, "provider webhook https://gw.example.com/send {\n\t\t\tbody `"+body+"`\n\t\t}",
			`"providers": [{"provider": "log"}, {"provider": "webhook", "url": "https://gw.example.com/send", "body": `+string(quoted)+`}]`, "Caddyfile:11", want, want)
	}
}
