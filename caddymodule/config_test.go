package caddymodule

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/caddyserver/caddy/v2"
)

// TestGateIsItsConfiguration: Gate declares its JSON fields and one
// unexported pointer to the running gate, not embedded, so that nothing of
// the running gate (its fields, its methods) is Gate's.
func TestGateIsItsConfiguration(t *testing.T) {
	typ, others := reflect.TypeFor[Gate](), 0
	for i := range typ.NumField() {
		f := typ.Field(i)
		if _, ok := f.Tag.Lookup("json"); ok && f.IsExported() {
			continue
		}
		if others++; f.Name != "run" || f.Anonymous || f.Type != reflect.TypeFor[*gate]() {
			t.Errorf("Gate.%s (%s) is neither a JSON field nor the running gate (run *gate, not embedded)", f.Name, f.Type)
		}
	}
	if others != 1 {
		t.Errorf("Gate has %d fields besides its JSON fields, want 1: the running gate", others)
	}
}

// TestProvisionLeavesTheConfigAsWritten: what Provision works out of the
// config (its defaults, the users' numbers in E.164, the factors, the
// store's default, the modules it loads) is the running gate's; the
// config stays as it was written.
func TestProvisionLeavesTheConfigAsWritten(t *testing.T) {
	t.Parallel()
	st, _ := json.Marshal(map[string]any{"module": "badger", "path": t.TempDir()})
	written := []byte(`{"realm":"Example.COM","public_origin":"https://example.com/","accent":"2563eb",
		"users":[{"name":"carol","phone":"+1 415 555 2671"}],"signing_key":"a signing key of at least thirty-two bytes",
		"store":` + string(st) + `,"providers":[{"provider":"log","allow_public":true}]}`)
	var g, want Gate
	if err := json.Unmarshal(written, &g); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	t.Cleanup(cancel) // after the gate's Cleanup: the store closed before its folder is removed
	if err := g.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Cleanup() })
	if err := json.Unmarshal(written, &want); err != nil {
		t.Fatal(err)
	}
	if got, want := mustJSON(t, &g), mustJSON(t, &want); got != want {
		t.Errorf("Provision rewrote the config:\n got %s\nwant %s", got, want)
	}
	if u := g.run.signin.Users["carol"]; u.Phone != "+14155552671" {
		t.Errorf("the running gate's carol has %q, want the number in E.164", u.Phone)
	}
	if len(g.run.policy.Factors) == 0 || g.run.hot.prefix != DefaultPathPrefix || g.run.host != "example.com" {
		t.Errorf("the running gate did not settle the defaults: factors %v, prefix %q, host %q", g.run.policy.Factors, g.run.hot.prefix, g.run.host)
	}
	// The admin's tools read the settled config's JSON (as a stopped
	// Caddy's): a drift of its names or types would leave them zero values.
	a := g.run.site.Config
	got := fmt.Sprintf("%s %s %s %v %v %v", a.Realm, a.PublicOrigin, a.PathPrefix, a.Provisioned, a.Providers, len(a.StoreConfig) > 0)
	if got != "example.com https://example.com "+DefaultPathPrefix+" [{carol}] [{log []}] true" {
		t.Errorf("the admin's view of the gate: %s", got)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
