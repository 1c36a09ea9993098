package caddymodule

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/smsgate/caddy-smsgate/internal/cfutil"
	"github.com/smsgate/caddy-smsgate/store"
)

// TestAFirstRequestOpensTheGate: a gate provisioned by `caddy validate`
// (cfutil.Validating) opens no store at Provision. Caddy starts apps in no set order, so the http app may serve
// a request before the smsgate app's Start opened the gates: the request
// opens its gate, once, and is served. A gate whose store cannot open
// answers 503 with why (the config's start fails with it); one cleaned up
// before it opened never opens, and hands the request on.
func TestAFirstRequestOpensTheGate(t *testing.T) {
	// Not parallel: ProvisionContext sets Caddy's process-wide defaults
	// (CertMagic's storage, the default logger), as the parallel tests'
	// in-process caddy.Load does (a race, -race found it).
	// A config provisioned and not started, as `caddy validate` leaves it
	// (elsewhere Provision opens the store: TestAReloadWhoseStoreCannotOpenTouchesNoLiveRequest).
	validating = func() bool { return true }
	t.Cleanup(func() { validating = cfutil.Validating })
	cfg, err := caddy.ProvisionContext(&caddy.Config{Admin: &caddy.AdminConfig{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := caddy.NewContext(cfg)
	t.Cleanup(cancel)
	dir := t.TempDir()
	gate := func(path string) *Gate {
		st, _ := json.Marshal(map[string]string{"module": "badger", "path": path})
		g := &Gate{Realm: "localhost", Identity: IdentityNone, StoreRaw: st, ProvidersRaw: []json.RawMessage{json.RawMessage(`{"provider":"log"}`)}}
		if err := g.Provision(ctx); err != nil {
			t.Fatal(err)
		}
		return g
	}
	serve := func(g *Gate) (*httptest.ResponseRecorder, error) {
		r := httptest.NewRequest(http.MethodGet, "http://localhost/.smsgate/login", nil)
		rc := context.WithValue(r.Context(), caddy.ReplacerCtxKey, caddy.NewReplacer())
		rc = context.WithValue(rc, caddyhttp.VarsCtxKey, map[string]any{caddyhttp.ClientIPVarKey: "127.0.0.1"})
		w := httptest.NewRecorder()
		return w, g.ServeHTTP(w, r.WithContext(rc), caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error { return nil }))
	}

	path := filepath.Join(dir, "store")
	g := gate(path)
	t.Cleanup(func() { _ = g.Cleanup() })
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("Provision opened the store (%v)", err)
	}
	for range 2 {
		if w, err := serve(g); err != nil || w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "<form") {
			t.Fatalf("the first request: %v %d", err, w.Code)
		}
	}
	if _, err := os.Stat(filepath.Join(path, "MANIFEST")); err != nil {
		t.Errorf("the first request did not open the store: %v", err)
	}

	// Held by another opening than the module's (another process's, in
	// effect): Badger's folder lock refuses it.
	held := filepath.Join(dir, "held")
	_, closeHeld, err := store.OpenBadger(held)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = closeHeld() })
	broken := gate(held)
	t.Cleanup(func() { _ = broken.Cleanup() })
	_, err = serve(broken)
	var he caddyhttp.HandlerError
	if !errors.As(err, &he) || he.StatusCode != http.StatusServiceUnavailable || !strings.Contains(err.Error(), "opening badger store at "+held) {
		t.Errorf("a store that cannot open: %v", err)
	}

	late := gate(filepath.Join(dir, "late"))
	_ = late.Cleanup()
	if _, err := serve(late); !errors.Is(err, errReplaced) {
		t.Errorf("a gate cleaned up before it opened: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "late")); !os.IsNotExist(err) {
		t.Errorf("a gate cleaned up before it opened opened its store (%v)", err)
	}
}
