package providers_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/caddyserver/caddy/v2"

	"github.com/smsgate/caddy-smsgate/providers"
)

// thirdParty is another module's provider, whose Provision wants the live
// Context Caddy's load gives (its logger, its apps) and would start what
// only its Cleanup stops.
type thirdParty struct {
	Provider string `json:"provider"`
}

func (thirdParty) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "smsgate.providers.thirdparty_test", New: func() caddy.Module { return new(thirdParty) }}
}

func (*thirdParty) Provision(ctx caddy.Context) error {
	if ctx.Context == nil {
		panic("provisioned without Caddy's context")
	}
	return nil
}

func (*thirdParty) Send(context.Context, providers.Message) error { return nil }

func init() { caddy.RegisterModule(thirdParty{}) }

// TestAnotherModulesProviderIsNotProvisionedAtAdapt: CheckResolved runs
// only this package's providers' Provision (before, another's ran with an
// empty Context, and one that used it crashed `caddy adapt`).
func TestAnotherModulesProviderIsNotProvisionedAtAdapt(t *testing.T) {
	t.Parallel()
	if err := providers.CheckResolved([]json.RawMessage{json.RawMessage(`{"provider":"thirdparty_test"}`)}, nil); err != nil {
		t.Fatal(err)
	}
}
