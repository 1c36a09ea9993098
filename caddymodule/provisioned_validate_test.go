package caddymodule_test

import (
	"encoding/json"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestValidatingANewNumberEndsNothing: `caddy validate` (caddy.Validate,
// here in the test's process) of a config that gives alice another number
// provisions the gate on the running Caddy's store but starts nothing: her
// session lives on, and the running config loaded again finds her number
// as it kept it (a validate that settled would have kept the new one, and
// the load would end her session).
func TestValidatingANewNumberEndsNothing(t *testing.T) {
	sitetest.Parallel(t)
	storeLine := "store redis " + redistest.Server(t)
	s := textSite(t, storeLine, []string{"alice"}, "\t\tuser alice +14155552671\n")
	alice := sitetest.NewClient(t, "alice")
	signIn(t, s, alice)

	cfg := sitetest.WithPorts(`{
	admin off
	skip_install_trust
}
http://localhost:1 {
	basic_auth argon2id {
		alice ` + sitetest.DemoHash + `
	}
	smsgate {
		realm localhost
		enrollment closed
		` + storeLine + `
		provider log
		user alice +447400123456
	}
	respond "Hello"
}`)
	adapted, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(cfg), map[string]any{"filename": "Caddyfile"})
	if err != nil {
		t.Fatal(err)
	}
	var c caddy.Config
	if err := json.Unmarshal(adapted, &c); err != nil {
		t.Fatal(err)
	}
	if err := sitetest.Validate(t, &c); err != nil {
		t.Fatal(err)
	}
	sitetest.ExpectBody(t, alice.Get("/"), "Hello, alice!")
	// The running config, started again, still finds her number kept.
	s = textSite(t, storeLine, []string{"alice"}, "\t\tuser alice +14155552671\n")
	alice.HTTP.CloseIdleConnections()
	sitetest.ExpectBody(t, alice.Get("/"), "Hello, alice!")
}
