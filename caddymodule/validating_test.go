package caddymodule

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/caddyserver/caddy/v2"

	"github.com/smsgate/caddy-smsgate/internal/cfutil"
)

// TestOnlyValidateLeavesTheStoreClosed: a gate provisioned by `caddy
// validate` (cfutil.Validating) opens no store — it made the folder, and
// failed on the lock of the Caddy running the config — and is cleaned up
// without one; anywhere else Provision opens it, so that a store that
// cannot open fails the load before the config serves
// (TestAReloadWhoseStoreCannotOpenTouchesNoLiveRequest, internal/processes;
// TestValidateOpensNoStore there runs the real command).
func TestOnlyValidateLeavesTheStoreClosed(t *testing.T) {
	// Not parallel: it sets validating, and ProvisionContext sets Caddy's
	// process-wide defaults (CertMagic's storage, the default logger), as
	// the parallel tests' in-process caddy.Load does (a race, -race found it).
	cfg, err := caddy.ProvisionContext(&caddy.Config{Admin: &caddy.AdminConfig{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := caddy.NewContext(cfg)
	t.Cleanup(cancel)
	dir := t.TempDir()
	provision := func(path string) *Gate {
		st, _ := json.Marshal(map[string]string{"module": "badger", "path": path})
		g := &Gate{Realm: "localhost", Identity: IdentityNone, StoreRaw: st, ProvidersRaw: []json.RawMessage{json.RawMessage(`{"provider":"log"}`)}}
		if err := g.Provision(ctx); err != nil {
			t.Fatal(err)
		}
		return g
	}

	validating = func() bool { return true }
	t.Cleanup(func() { validating = cfutil.Validating })
	validated := filepath.Join(dir, "validated")
	g := provision(validated)
	if _, err := os.Stat(validated); !os.IsNotExist(err) {
		t.Errorf("caddy validate's Provision made the store's folder (%v)", err)
	}
	if err := g.Cleanup(); err != nil {
		t.Errorf("cleaning up a gate that never opened: %v", err)
	}

	validating = func() bool { return false }
	loaded := filepath.Join(dir, "loaded")
	g = provision(loaded)
	t.Cleanup(func() { _ = g.Cleanup() })
	if _, err := os.Stat(filepath.Join(loaded, "MANIFEST")); err != nil {
		t.Errorf("a load's Provision did not open the store: %v", err)
	}
}
