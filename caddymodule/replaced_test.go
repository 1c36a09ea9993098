package caddymodule

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/smsgate/caddy-smsgate/internal/clock"
	"github.com/smsgate/caddy-smsgate/pages"
	"github.com/smsgate/caddy-smsgate/session"
)

// A session the gate has not cached needs the store. Once Caddy has
// cleaned the gate up (a reload), a request that reaches it only then is
// refused with a 503 to retry, on the new config, and the store is not
// touched: on main the old gate checked the session against the store it
// had let go of. (The pages, through a real Caddy: reload_test.go's
// TestARequestAfterCleanupIsToldToRetry.)
func TestAnUncachedSessionAfterCleanupIsToldToRetry(t *testing.T) {
	dir := t.TempDir() // made first, so removed after the store closes
	gate := func() *Gate {
		ctx, cancel := caddy.NewContext(caddy.Context{Context: clock.With(context.Background(), clock.Now)})
		t.Cleanup(cancel)
		store, _ := json.Marshal(map[string]string{"module": "badger", "path": dir})
		g := &Gate{Realm: "localhost", Identity: IdentityNone, StoreRaw: store,
			ProvidersRaw: []json.RawMessage{json.RawMessage(`{"provider":"log"}`)}, Users: []User{{Name: "carol", Phone: "+14155552671"}}}
		if err := g.Provision(ctx); err != nil {
			t.Fatal(err)
		}
		return g
	}
	old, next := gate(), gate() // the config being replaced, and the new one, on one store
	t.Cleanup(func() { _ = next.Cleanup() })
	// Issued by the new gate: in its cache, not in the old one's.
	tok, err := next.sessions.Issue(context.Background(), "carol", []string{"sms"}, session.Where{})
	if err != nil {
		t.Fatal(err)
	}
	serve := func(g *Gate) (w *httptest.ResponseRecorder, passed bool, err error) {
		r := httptest.NewRequest(http.MethodGet, "http://localhost/app", nil)
		r = r.WithContext(context.WithValue(r.Context(), caddy.ReplacerCtxKey, caddy.NewReplacer()))
		r.AddCookie(&http.Cookie{Name: pages.SessionCookie, Value: tok})
		w = httptest.NewRecorder()
		err = g.ServeHTTP(w, r, caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error { passed = true; return nil }))
		return w, passed, err
	}
	if err := old.Cleanup(); err != nil {
		t.Fatal(err)
	}
	w, passed, err := serve(old)
	var he caddyhttp.HandlerError
	if passed || !errors.As(err, &he) || he.StatusCode != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Fatalf("a gate Caddy cleaned up: passed %v, %v, Retry-After %q; want a 503 to retry", passed, err, w.Header().Get("Retry-After"))
	}
	if _, passed, err := serve(next); !passed {
		t.Fatalf("the new gate refused the session: %v", err)
	}
}
