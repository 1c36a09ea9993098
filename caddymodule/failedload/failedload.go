// Package failedload serves a request that reached a cleaned-up gate
// through the running config's server: the gate of a config that failed
// to start (Caddy kept the config it had), or of one a reload changed
// (no live gate has its configuration). It is the glue between such a
// gate and Caddy's HTTP app (caddymodule's handOff asks it first for a
// failed config's gate, after the live gates for a reload's).
package failedload

import (
	"context"
	"net"
	"net/http"
	"slices"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddytls"
)

// FailedToStart reports whether ctx, a module's caddy.Context, is that of
// a config Caddy provisioned and then failed to start (another app's
// Start failed): Caddy's run cancels it with that cause. Its servers had
// started, and Caddy stops them without waiting for their listeners to
// close: with SO_REUSEPORT the kernel can hand a new connection to such
// a server's socket until it does, while the config Caddy kept runs on.
func FailedToStart(ctx context.Context) bool {
	err := context.Cause(ctx)
	return err != nil && strings.HasPrefix(err.Error(), "configuration start error")
}

// ToRunning serves r through the running config's HTTP server that
// listens where r's server took r's connection, as if the connection had
// reached that server's socket (its routes from the first, its own
// gate, its answer), and reports whether it did. It is for a request
// that reached a gate of a config that failed to start, or that a reload
// replaced with another, once that gate was cleaned up: the config that
// answers every other connection of the port is the one to answer it,
// and its retry would meet it anyway.
//
// r is handed as it arrived (its method, URL and client address from
// before the failed config's handlers; its headers as those handlers
// left them), written to the connection's own response writer under the
// failed config's wrappers, the headers they set taken off. It hands
// nothing where no config runs, where the running config's servers do
// not listen on that address, where it is the failed server's own, where
// that server asks more of the connection (asksMore: TLS, or a client's
// certificate), or a second time (a request already handed on).
func ToRunning(w http.ResponseWriter, r *http.Request) bool {
	if r.Context().Value(handedKey{}) != nil {
		return false
	}
	own, _ := r.Context().Value(caddyhttp.ServerCtxKey).(*caddyhttp.Server)
	orig, ok := r.Context().Value(caddyhttp.OriginalRequestCtxKey).(http.Request)
	local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if own == nil || !ok || local == nil {
		return false
	}
	app, err := caddy.ActiveContext().AppIfConfigured("http")
	if err != nil {
		return false
	}
	at, ok := listening(own, local)
	if !ok {
		return false
	}
	var running *caddyhttp.Server
	for _, s := range app.(*caddyhttp.App).Servers {
		if s != own && sameAddress(s, at) {
			running = s
		}
	}
	if running == nil || asksMore(running, r) {
		return false
	}
	for {
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			break
		}
		w = u.Unwrap()
	}
	clear(w.Header())
	handed := r.Clone(context.WithValue(r.Context(), handedKey{}, true))
	handed.Method, handed.RequestURI, handed.RemoteAddr = orig.Method, orig.RequestURI, orig.RemoteAddr
	u := *orig.URL
	handed.URL = &u
	running.ServeHTTP(w, handed)
	return true
}

// asksMore reports whether s asks more of a connection than the server
// that took r's did: TLS where r came in plain, or, over TLS, clients'
// certificates (Caddy checks one at the handshake only, and r's handshake
// was never s's). Such a request is not s's to serve.
func asksMore(s *caddyhttp.Server, r *http.Request) bool {
	if r.TLS == nil {
		return len(s.TLSConnPolicies) > 0
	}
	return slices.ContainsFunc(s.TLSConnPolicies, func(cp *caddytls.ConnectionPolicy) bool {
		return cp != nil && cp.ClientAuthentication != nil && cp.ClientAuthentication.Active()
	})
}

// handedKey marks a request ToRunning handed on.
type handedKey struct{}

// listening is the address of s's that local (a connection's own end)
// came in by: its network a TCP one, its port in the address's range and
// its host local's or every interface's.
func listening(s *caddyhttp.Server, local net.Addr) (caddy.NetworkAddress, bool) {
	tcp, ok := local.(*net.TCPAddr)
	if !ok {
		return caddy.NetworkAddress{}, false
	}
	for _, l := range s.Listen {
		na, err := caddy.ParseNetworkAddress(l)
		if err != nil || !strings.HasPrefix(na.Network, "tcp") || uint(tcp.Port) < na.StartPort || uint(tcp.Port) > na.EndPort {
			continue
		}
		if ip := net.ParseIP(na.Host); ip == nil || ip.Equal(tcp.IP) { // "" or a name: every interface, or its own
			return na, true
		}
	}
	return caddy.NetworkAddress{}, false
}

// sameAddress reports whether s listens on na (the socket's twin: the
// same network, host and ports).
func sameAddress(s *caddyhttp.Server, na caddy.NetworkAddress) bool {
	for _, l := range s.Listen {
		if b, err := caddy.ParseNetworkAddress(l); err == nil && b == na {
			return true
		}
	}
	return false
}
