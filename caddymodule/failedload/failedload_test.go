package failedload

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddytls"
)

// A config's context tells a failed start (Caddy's run cancels it with
// that cause) from a config stopped after it ran, or one still running.
func TestFailedToStartIsCaddysCauseOnly(t *testing.T) {
	for cause, want := range map[string]bool{
		"configuration start error: smsgate app module: start: no": true,
		"stopping apps":       false,
		"validation complete": false,
	} {
		ctx, cancel := context.WithCancelCause(context.Background())
		cancel(errors.New(cause))
		if got := FailedToStart(ctx); got != want {
			t.Errorf("cancelled with %q: FailedToStart %v, want %v", cause, got, want)
		}
	}
	if FailedToStart(context.Background()) {
		t.Error("a running config's context read as failed")
	}
}

// A request is handed on once, and only by a server of Caddy's with the
// address it came in by; with no config running, nothing is handed (the
// gate answers its 503).
func TestToRunningHandsNothingItCannot(t *testing.T) {
	local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}
	own := &caddyhttp.Server{Listen: []string{":8080"}}
	for name, ctx := range map[string]context.Context{
		"no server":     context.WithValue(context.Background(), http.LocalAddrContextKey, net.Addr(local)),
		"handed before": context.WithValue(context.Background(), handedKey{}, true),
		"no config running": context.WithValue(context.WithValue(context.WithValue(context.Background(),
			http.LocalAddrContextKey, net.Addr(local)), caddyhttp.ServerCtxKey, own),
			caddyhttp.OriginalRequestCtxKey, http.Request{Method: "GET"}),
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil).WithContext(ctx)
		if ToRunning(httptest.NewRecorder(), r) {
			t.Errorf("%s: handed", name)
		}
	}
	if _, ok := listening(own, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8081}); ok {
		t.Error("a connection to another port read as the server's")
	}
	at, ok := listening(own, local)
	if want, _ := caddy.ParseNetworkAddress(":8080"); !ok || at != want || !sameAddress(&caddyhttp.Server{Listen: []string{"localhost:9090", ":8080"}}, at) {
		t.Errorf("listening: %v %v", at, ok)
	}
}

// A TLS request is handed only to a running server that asks no client
// for a certificate: its handshake was the failed config's, which may
// not have asked (review38). One without TLS is handed either way.
func TestATLSRequestIsNotHandedWhereClientCertificatesAreAsked(t *testing.T) {
	asks := &caddyhttp.Server{TLSConnPolicies: caddytls.ConnectionPolicies{{}, {ClientAuthentication: &caddytls.ClientAuthentication{Mode: "require_and_verify"}}}}
	none := &caddyhttp.Server{TLSConnPolicies: caddytls.ConnectionPolicies{{}, {ClientAuthentication: &caddytls.ClientAuthentication{}}}}
	plain := httptest.NewRequest(http.MethodGet, "/", nil)
	overTLS := httptest.NewRequest(http.MethodGet, "/", nil)
	overTLS.TLS = &tls.ConnectionState{}
	for _, c := range []struct {
		name    string
		running *caddyhttp.Server
		r       *http.Request
		want    bool
	}{
		{"TLS, client certificates asked", asks, overTLS, false},
		{"TLS, none asked", none, overTLS, true},
		{"no TLS, client certificates asked", asks, plain, true},
	} {
		if got := handshakeHolds(c.running, c.r); got != c.want {
			t.Errorf("%s: handed %v, want %v", c.name, got, c.want)
		}
	}
}
