package admin

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/intercept"
	maphandler "github.com/caddyserver/caddy/v2/modules/caddyhttp/map"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"

	"github.com/smsgate/caddy-smsgate/siteblock"
)

// A gate's identity {http.auth.user.*} is believed as a first factor set
// it (siteblock.UnknownSource): Caddy's authentication handler sets those
// placeholders once it has authenticated the request. But a `map` whose
// output is named {http.auth.user.id} answers that placeholder wherever
// no authentication handler set it (the handler's value comes first where
// it ran), and `vars http.auth.user.id …` sets it outright (Caddy's own
// case, for access logs), as does a `vars` whose name the request chooses
// (`vars {query.k} …`): on a site without an authentication handler the
// client then wrote the identity (`map {query.u} {http.auth.user.id}`:
// /?u=alice was alice). A map of the client's header into
// {http.reverse_proxy.header.*} likewise answered the trusted-hop check
// (siteblock.Copied) of a header identity (attack40c). So a server holding
// a gate with an identity may have no map output or vars name that writes
// a placeholder a gate reads (siteblock.GateReads; checkIdentitySetters),
// wherever it is in the server's routes.

// checkIdentitySetters refuses a server of app holding a gate with an
// identity where a map's output or a vars name there writes a placeholder
// a gate reads or checks it by (siteblock.GateReads: {http.auth.*},
// {http.reverse_proxy.*}, {http.request.*}), naming the server, the
// handler and the placeholder.
func checkIdentitySetters(app *caddyhttp.App) error {
	for _, name := range slices.Sorted(maps.Keys(app.Servers)) {
		srv := app.Servers[name]
		w := &setterWalk{seen: map[*caddyhttp.Subroute]bool{}}
		w.routes(srv.Routes)
		for _, k := range slices.Sorted(maps.Keys(srv.NamedRoutes)) {
			w.routes(caddyhttp.RouteList{*srv.NamedRoutes[k]})
		}
		if srv.Errors != nil {
			w.routes(srv.Errors.Routes)
		}
		if err := checkClientCerts(name, srv, w.certIdentity); err != nil {
			return err
		}
		if w.identity == "" || w.setter == "" {
			continue
		}
		return fmt.Errorf("server %s: %s, and a gate's identity is %s: where no handler set it first, the client chooses whom the gate takes the request for (e.g. map {query.u} {http.auth.user.id}, or a map of a header into {http.reverse_proxy.header.*}, which the trusted-hop check reads); name the output another placeholder that nothing reads as an identity, or set the identity only from an authentication handler", name, w.setter, w.identity)
	}
	return nil
}

// setterWalk is checkIdentitySetters' walk of one server's handlers.
type setterWalk struct {
	identity string // the first gate's identity (not none)
	setter   string // the first map or vars that writes one, described
	// certIdentity is the first gate's identity that reads a TLS client
	// certificate's field (checkClientCerts).
	certIdentity string
	seen         map[*caddyhttp.Subroute]bool
}

func (w *setterWalk) routes(routes caddyhttp.RouteList) {
	for _, r := range routes {
		w.handlers(r.Handlers)
	}
}

func (w *setterWalk) handlers(handlers []caddyhttp.MiddlewareHandler) {
	for _, h := range handlers {
		switch h := h.(type) {
		case *caddyhttp.Subroute:
			if !w.seen[h] {
				w.seen[h] = true
				w.routes(h.Routes)
				if h.Errors != nil {
					w.routes(h.Errors.Routes)
				}
			}
		case *reverseproxy.Handler:
			for _, hr := range h.HandleResponse {
				w.routes(hr.Routes)
			}
		case *intercept.Intercept:
			for _, hr := range h.HandleResponse {
				w.routes(hr.Routes)
			}
		case *maphandler.Handler:
			for _, d := range h.Destinations { // braces taken off at Provision
				if w.setter == "" && siteblock.GateReads(strings.Trim(d, "{}")) {
					w.setter = fmt.Sprintf("a map's output is {%s}", strings.Trim(d, "{}"))
				}
			}
		case *caddyhttp.VarsMiddleware:
			for _, k := range slices.Sorted(maps.Keys(*h)) {
				if w.setter == "" && (siteblock.GateReads(k) || strings.Contains(k, "{")) {
					w.setter = fmt.Sprintf("a vars name is %s", k)
				}
			}
		case caddy.Module:
			if h.CaddyModule().ID == "http.handlers.smsgate" && w.identity == "" {
				if id := identityOf(h); id != "none" {
					w.identity = id
				}
			}
			if id := identityOf(h); h.CaddyModule().ID == "http.handlers.smsgate" && w.certIdentity == "" && siteblock.ReadsClientCert(id) {
				w.certIdentity = id
			}
		}
	}
}

// identityOf is a gate's identity: as its config wrote it, else the
// default (caddymodule.DefaultIdentity).
func identityOf(gate any) string {
	var cfg struct {
		Identity string `json:"identity"`
	}
	if raw, err := json.Marshal(gate); err == nil {
		_ = json.Unmarshal(raw, &cfg)
	}
	return cmp.Or(cfg.Identity, "{http.auth.user.id}")
}
