package failedload

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	_ "github.com/caddyserver/caddy/v2/modules/filestorage"
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

// A request is not handed to a running server that asks more of its
// connection than the one that took it: a client's certificate over TLS
// (Caddy checks one at the handshake only), or TLS where it came in
// plain. Through real Caddy configs, loaded in this process; a server of
// plain HTTP serves both.
func TestToRunningHandsNoRequestToAServerThatAsksMore(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	t.Cleanup(func() { _ = caddy.Stop() })
	local, _ := net.ResolveTCPAddr("tcp", addr)
	own := &caddyhttp.Server{Listen: []string{addr}}
	for _, running := range []struct {
		policies  string
		plain, tl bool // handed
	}{
		{`[{"client_authentication": {"mode": "require"}}]`, false, false},
		{`[]`, true, true},
	} {
		cfg := fmt.Sprintf(`{"admin": {"disabled": true, "config": {"persist": false}},
			"storage": {"module": "file_system", "root": %q},
			"apps": {"http": {"servers": {"running": {"listen": [%q], "automatic_https": {"disable": true},
				"tls_connection_policies": %s,
				"routes": [{"handle": [{"handler": "static_response", "body": "the running config"}]}]}}}}}`, t.TempDir(), addr, running.policies)
		if err := caddy.Load([]byte(cfg), true); err != nil {
			t.Fatal(err)
		}
		for name, want := range map[string]bool{"plain HTTP": running.plain, "TLS": running.tl} {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r = r.WithContext(context.WithValue(context.WithValue(context.WithValue(r.Context(),
				http.LocalAddrContextKey, net.Addr(local)), caddyhttp.ServerCtxKey, own),
				caddyhttp.OriginalRequestCtxKey, *r))
			if name == "TLS" {
				r.TLS = &tls.ConnectionState{}
			}
			w := httptest.NewRecorder()
			if got := ToRunning(w, r); got != want || want && w.Body.String() != "the running config" {
				t.Errorf("TLS policies %s, a request over %s: handed %v (%q), want %v", running.policies, name, got, w.Body.String(), want)
			}
		}
	}
}
