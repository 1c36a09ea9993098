package caddymodule

import (
	"context"
	"encoding/json"
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
	"github.com/smsgate/caddy-smsgate/signin"
)

// The admitted path skips passes only where every session of the realm
// passes (hot.anySession): a gate with named users, a max_age or a
// require still refuses the session that fails it, and a plain gate
// admits one, until it expires (the cache holds it, and must not serve
// it then).
func TestTheHotPathKeepsEveryCheck(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name  string
		gate  Gate
		user  string
		amr   []factor.AMR
		age   time.Duration // how long ago the session's code was entered
		admit bool
	}{
		{name: "plain", user: "carol", amr: []factor.AMR{factor.AMRSMS}, admit: true},
		{name: "plain, an old session", user: "carol", amr: []factor.AMR{factor.AMRSMS}, age: 2 * time.Hour, admit: true},
		{name: "plain, expired", user: "carol", amr: []factor.AMR{factor.AMRSMS}, age: 12*time.Hour + session.Leeway + time.Second},
		{name: "named users, another", gate: Gate{Users: []User{{Name: "dave", Phone: "+14155550100"}}}, user: "carol", amr: []factor.AMR{factor.AMRSMS}},
		{name: "named users, one of them", gate: Gate{Users: []User{{Name: "carol", Phone: "+14155550100"}}}, user: "carol", amr: []factor.AMR{factor.AMRSMS}, admit: true},
		{name: "max_age, too old", gate: Gate{MaxAge: caddy.Duration(time.Minute)}, user: "carol", amr: []factor.AMR{factor.AMRSMS}, age: 2 * time.Minute},
		{name: "max_age, fresh", gate: Gate{MaxAge: caddy.Duration(time.Minute)}, user: "carol", amr: []factor.AMR{factor.AMRSMS}, admit: true},
		{name: "require, another kind", gate: Gate{Require: []factor.Kind{factor.TOTP}}, user: "carol", amr: []factor.AMR{factor.AMRSMS}},
		{name: "require, that kind", gate: Gate{Require: []factor.Kind{factor.TOTP}}, user: "carol", amr: []factor.AMR{factor.AMROTP}, admit: true},
		{name: "factors, a kind dropped", gate: Gate{Channels: []factor.Channel{"sms", "voice"}, Factors: []factor.Kind{factor.Voice, factor.TOTP}}, user: "carol", amr: []factor.AMR{factor.AMRSMS}},
		{name: "factors, a kind taken", gate: Gate{Channels: []factor.Channel{"sms", "voice"}, Factors: []factor.Kind{factor.Voice, factor.TOTP}}, user: "carol", amr: []factor.AMR{factor.AMRTel}, admit: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var now clock.Test
			g := c.gate
			hotGate(t, &g, &now)
			if want := c.gate.Users == nil && c.gate.MaxAge == 0 && c.gate.Require == nil; g.run.hot.anySession != want {
				t.Errorf("anySession %v, want %v", g.run.hot.anySession, want)
			}
			tok, _, err := g.run.sessions.IssueBegun(context.Background(), session.Began{}, c.user, c.amr, session.Where{})
			if err != nil {
				t.Fatal(err)
			}
			now.Advance(c.age)
			for range 2 { // verified, then from the cache
				r, _ := http.NewRequest(http.MethodGet, "http://localhost/app", nil)
				r.Header.Set("Accept", "application/json")
				r.AddCookie(&http.Cookie{Name: pages.SessionCookie, Value: tok})
				w := httptest.NewRecorder()
				r = caddyhttp.PrepareRequest(r, caddy.NewReplacer(), w, nil)
				admitted := false
				next := caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error { admitted = true; return nil })
				err := g.ServeHTTP(w, r, next)
				if admitted != c.admit {
					t.Fatalf("admitted %v (%v), want %v", admitted, err, c.admit)
				}
				if user, _ := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer).GetString("http.auth.user.id"); admitted && user != c.user {
					t.Fatalf("admitted as %q, want %q", user, c.user)
				}
			}
			// The cache's entry holds the session's kinds as bits, which
			// a gate where every session passes tests its factors
			// against; were they missing, every repeat visit would take
			// passes' longer way (and still be right).
			if _, _, amrs := g.run.hot.sessions.Cached(context.Background(), tok); g.run.hot.anySession && c.admit && !g.run.hot.earns.Holds(signin.AMRs(amrs)) {
				t.Errorf("the cache entry's amr bits %b do not pass the gate's %b", amrs, g.run.hot.earns)
			}
		})
	}
}

// hotGate provisions g (identity none, on Badger in a temp folder) on
// clock now.
func hotGate(t *testing.T, g *Gate, now *clock.Test) {
	dir := t.TempDir() // made first, so removed after the store closes
	ctx, cancel := caddy.NewContext(caddy.Context{Context: clock.With(context.Background(), now.Now)})
	t.Cleanup(cancel)
	store, _ := json.Marshal(map[string]string{"module": "badger", "path": dir})
	g.Realm, g.Identity, g.StoreRaw = "localhost", IdentityNone, store
	g.ProvidersRaw = []json.RawMessage{json.RawMessage(`{"provider":"log"}`)}
	if err := g.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Cleanup() })
}
