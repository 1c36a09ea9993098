package providers

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
)

// CheckResolved (a Caddyfile's adapter, at the provider's line) refuses a
// provider exactly when Caddy's load of it does, for the same reason: it
// runs the provider's own Provision and Validate. Every registered
// provider is tried, so that one added later is checked at adapt too.
func TestCheckResolvedRefusesWhatTheLoadRefuses(t *testing.T) {
	t.Parallel()
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	configs := map[string][]string{
		"twilio": {`{"account_sid": "XX1", "auth_token": "t", "from": "+15005550006"}`, `{"account_sid": "AC1", "auth_token": "t"}`,
			`{"account_sid": "AC1", "auth_token": "t", "from": "+15005550006", "lookup": {"on_error_enroll": "maybe"}}`,
			`{"account_sid": "AC1", "auth_token": "t", "from": "+15005550006", "lookup": {"refuse_types": {"fax": ["landline"]}}}`,
			`{"account_sid": "AC1", "auth_token": "t", "verify_service": "XX1"}`, `{"account_sid": "AC1", "auth_token": "t", "verify_service": "VA1"}`,
			`{"account_sid": "AC1", "auth_token": "t", "verify_service": "VA1", "messaging_service_sid": "MG1"}`, `{"account_sid": "AC1", "auth_token": "t", "from": "+15005550006"}`},
		"webhook": {`{"url": "ftp://gw.example.com"}`, `{"url": "https://gw.example.com", "body": "{{.Nope}}"}`, `{"url": "https://gw.example.com"}`},
		"signal":  {`{"url": "https://signal.internal"}`, `{"url": "signal.internal", "number": "+15005550006"}`, `{"url": "https://signal.internal", "number": "+15005550006"}`},
		"log":     {`{"allow_public": true}`},
	}
	modules := caddy.GetModules("smsgate.providers")
	if len(modules) < 4 {
		t.Fatalf("providers registered: %v", modules)
	}
	for _, info := range modules {
		name := info.ID.Name()
		for _, config := range append(configs[name], `{}`) {
			_, loadErr := ctx.LoadModuleByID(string(info.ID), json.RawMessage(config))
			raw := json.RawMessage(`{"provider": "` + name + `"}`)
			if config != `{}` {
				raw = json.RawMessage(`{"provider": "` + name + `", ` + config[1:])
			}
			checkErr := CheckResolved([]json.RawMessage{raw}, nil)
			switch {
			case (loadErr == nil) != (checkErr == nil):
				t.Errorf("%s %s: the load says %v, CheckResolved %v", name, config, loadErr, checkErr)
			case checkErr != nil && !strings.Contains(loadErr.Error(), strings.TrimPrefix(checkErr.Error(), "provider 1: ")):
				t.Errorf("%s %s: the load says %v, CheckResolved another reason: %v", name, config, loadErr, checkErr)
			}
		}
	}
}
