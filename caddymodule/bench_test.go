package caddymodule

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/smsgate/caddy-smsgate/session"
)

// benchGate is a provisioned gate on a Badger store in a temp folder.
func benchGate(b *testing.B, alg string) *Gate {
	dir := b.TempDir() // made first, so removed after the store closes
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	b.Cleanup(cancel)
	store, _ := json.Marshal(map[string]string{"module": "badger", "path": dir})
	g := &Gate{Identity: IdentityNone, SigningAlg: alg, StoreRaw: store,
		ProvidersRaw: []json.RawMessage{json.RawMessage(`{"provider":"log"}`)}}
	if err := g.Provision(ctx); err != nil {
		b.Fatal(err)
	}
	return g
}

func sessionRequest(b *testing.B, g *Gate) *http.Request {
	cl := session.Claims{RegisteredClaims: g.sessions.NewClaims("localhost", "carol", time.Hour), AMR: []string{"sms"}, SID: "s1"}
	cl.AuthTime = cl.IssuedAt.Unix()
	tok, err := g.sessions.Sign(cl)
	if err != nil {
		b.Fatal(err)
	}
	r, _ := http.NewRequest(http.MethodGet, "http://localhost/app", nil)
	r.AddCookie(&http.Cookie{Name: SessionCookie, Value: tok})
	return r
}

// BenchmarkSessionCheck is the per-request cost of an authenticated
// request's cookie check: a cache hit, with the revocation watch.
//
//	go test ./caddymodule -run '^$' -bench SessionCheck -benchmem
func BenchmarkSessionCheck(b *testing.B) {
	for _, alg := range []string{"HS256", "EdDSA"} {
		b.Run(alg+"/cached", func(b *testing.B) {
			g := benchGate(b, alg)
			r := sessionRequest(b, g)
			if g.session(r, "localhost") == nil {
				b.Fatal("the session does not verify")
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if g.session(r, "localhost") == nil {
					b.Fatal("refused")
				}
			}
		})
		b.Run(alg+"/uncached", func(b *testing.B) {
			g := benchGate(b, alg)
			r := sessionRequest(b, g)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				g.cache.Flush()
				if g.session(r, "localhost") == nil {
					b.Fatal("refused")
				}
			}
		})
	}
}
