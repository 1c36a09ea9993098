package caddymodule

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/clock"
	"github.com/smsgate/caddy-smsgate/pages"
	"github.com/smsgate/caddy-smsgate/session"
)

// A session the gate has not cached needs the store. Once Caddy has
// cleaned the gate up (a reload), a request that reaches it only then
// begins nothing on the store it let go of: it is handed to the newest
// live gate of the same configuration, which checks it in full (and hands
// it on again if it was replaced too); with none, it is refused with a
// 503 to retry, on the new config. Before, every such request was a 503,
// and before that the old gate checked it against the store it had let go
// of. (Through a real Caddy: reload_test.go's TestARequestHeldAcrossAReload.)
func TestAnUncachedSessionAfterCleanupIsHandedOn(t *testing.T) {
	dir := t.TempDir() // made first, so removed after the store closes
	live := map[*Gate]bool{}
	t.Cleanup(func() {
		for g := range live {
			_ = g.Cleanup()
		}
	})
	cleanup := func(g *Gate) {
		t.Helper()
		delete(live, g)
		if err := g.Cleanup(); err != nil {
			t.Fatal(err)
		}
	}
	gate := func(siteName string) *Gate {
		ctx, cancel := caddy.NewContext(caddy.Context{Context: clock.With(context.Background(), clock.Now)})
		t.Cleanup(cancel)
		store, _ := json.Marshal(map[string]string{"module": "badger", "path": dir})
		g := &Gate{Realm: "localhost", Identity: IdentityNone, StoreRaw: store, SiteName: siteName,
			ProvidersRaw: []json.RawMessage{json.RawMessage(`{"provider":"log"}`)}, Users: []User{{Name: "carol", Phone: "+14155552671"}}}
		if err := g.Provision(ctx); err != nil {
			t.Fatal(err)
		}
		live[g] = true
		return g
	}
	old, next := gate("Wiki"), gate("Wiki") // the config being replaced, and the new one, on one store
	issue := func(g *Gate, user string) string {
		tok, _, err := g.run.sessions.IssueBegun(context.Background(), session.Began{}, user, []factor.AMR{factor.AMRSMS}, session.Where{})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	serve := func(g *Gate, tok string) (w *httptest.ResponseRecorder, passed bool, err error) {
		r := httptest.NewRequest(http.MethodGet, "http://localhost/app", nil)
		r = r.WithContext(context.WithValue(r.Context(), caddy.ReplacerCtxKey, caddy.NewReplacer()))
		if tok != "" {
			r.AddCookie(&http.Cookie{Name: pages.SessionCookie, Value: tok})
		}
		w = httptest.NewRecorder()
		err = g.ServeHTTP(w, r, caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error { passed = true; return nil }))
		return w, passed, err
	}
	refused := func(what, tok string, g *Gate, status int) {
		t.Helper()
		w, passed, err := serve(g, tok)
		var he caddyhttp.HandlerError
		if passed || !errors.As(err, &he) || he.StatusCode != status {
			t.Fatalf("%s: passed %v, %v (Retry-After %q); want %d", what, passed, err, w.Header().Get("Retry-After"), status)
		}
		if status == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
			t.Fatalf("%s: a 503 without Retry-After", what)
		}
	}
	// Issued by the new gate: in its cache, not in the old one's.
	carol := issue(next, "carol")
	cleanup(old)
	if _, passed, err := serve(old, carol); !passed {
		t.Fatalf("a session reaching a gate Caddy cleaned up, whose successor has the same config: %v", err)
	}
	// The successor runs all its checks: a session of a user this gate
	// does not name is refused.
	refused("a stranger's session, handed on", issue(next, "mallory"), old, http.StatusUnauthorized)

	// A chain of reloads: the successor replaced in turn hands on to the
	// newest, which has not cached the session either.
	newest := gate("Wiki")
	cleanup(next)
	if _, passed, err := serve(old, carol); !passed {
		t.Fatalf("a session reaching a gate two reloads old: %v", err)
	}
	// A reload that changed the gate's config: nobody to hand on to.
	other := gate("Another wiki")
	cleanup(newest)
	refused("a gate Caddy cleaned up, replaced by one of another config", carol, old, http.StatusServiceUnavailable)
	if _, passed, err := serve(other, carol); !passed {
		t.Fatalf("the new gate refused the session: %v", err)
	}
}

// TestNoAssertionSignedAfterCleanup: a gate that gives identity
// assertions (EdDSA) signs one when a session it has cached comes back
// after the last one expired, and signing may rotate the keys: a write to
// the store. Once Caddy has cleaned the gate up, that store is let go of:
// a session in its cache (no revocation poll due yet) is not admitted by
// it, but handed on (here, to nobody: the 503). Cleanup empties the cache,
// so the session is one a request still in flight checked, and cached,
// after Cleanup. Before, the gate wrote the new key to its closed store,
// and the request went on without its assertion. (Through a real Caddy on
// Redis: aftercleanup_test.go's TestAnAssertionAfterCleanup.)
func TestNoAssertionSignedAfterCleanup(t *testing.T) {
	var now clock.Test
	g := Gate{SigningAlg: "EdDSA", KeyRotation: caddy.Duration(time.Hour), SessionLifetime: caddy.Duration(3 * time.Hour),
		AssertionHeader: "X-Smsgate-Assertion"}
	hotGate(t, &g, &now)
	tok, _, err := g.run.sessions.IssueBegun(context.Background(), session.Began{}, "carol", []factor.AMR{factor.AMRSMS}, session.Where{})
	if err != nil {
		t.Fatal(err)
	}
	serve := func(tok string) (assertion string, passed bool, err error) {
		r := httptest.NewRequest(http.MethodGet, "http://localhost/app", nil)
		r.AddCookie(&http.Cookie{Name: pages.SessionCookie, Value: tok})
		w := httptest.NewRecorder()
		r = caddyhttp.PrepareRequest(r, caddy.NewReplacer(), w, nil)
		err = g.ServeHTTP(w, r, caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error { passed = true; return nil }))
		return r.Header.Get(g.AssertionHeader), passed, err
	}
	if a, passed, err := serve(tok); !passed || a == "" {
		t.Fatalf("carol's session: passed %v, assertion %q, %v", passed, a, err)
	}
	now.Advance(61 * time.Minute) // her assertion expired, a new key due
	serve("stranger")             // polls the revocations now: none due at her next visit
	g.run.inFlight.Hold()         // a request in flight across the Cleanup
	if err := g.Cleanup(); err != nil {
		t.Fatal(err)
	}
	if g.run.sessions.Check(context.Background(), tok) == nil { // it checks carol's session: cached again
		t.Fatal("carol's session, checked by a request in flight")
	}
	a, passed, err := serve(tok)
	g.run.inFlight.Release()
	var he caddyhttp.HandlerError
	if passed || !errors.As(err, &he) || he.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("carol's cached session after Cleanup: passed %v, assertion %q, %v; want the 503", passed, a, err)
	}
}
