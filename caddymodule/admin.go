package caddymodule

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/enrollment/phone"
)

func init() {
	caddy.RegisterModule(AdminAPI{})
}

// live holds the provisioned gates, so that the admin API can reach their
// store. Each gate adds itself in Provision and leaves in Cleanup.
var live = struct {
	sync.Mutex
	gates []*Gate
}{}

func registerGate(g *Gate) {
	live.Lock()
	live.gates = append(live.gates, g)
	live.Unlock()
}

func unregisterGate(g *Gate) {
	live.Lock()
	defer live.Unlock()
	for i, x := range live.gates {
		if x == g {
			live.gates = append(live.gates[:i], live.gates[i+1:]...)
			return
		}
	}
}

// gateFor finds the gate that names realm, else the first one: its store
// (usually the only one) is what the admin's requests work on.
func gateFor(realm string) *Gate {
	live.Lock()
	defer live.Unlock()
	for _, g := range live.gates {
		if g.Realm == realm {
			return g
		}
	}
	if len(live.gates) > 0 {
		return live.gates[0]
	}
	return nil
}

// AdminAPI serves smsgate's admin operations on Caddy's admin endpoint
// (so it has the same listener, origin checks and trust as Caddy's own
// admin API): the `caddy smsgate` commands use it while Caddy runs.
//
//	GET  /smsgate/users?realm=R               users and their devices
//	POST /smsgate/users    {realm,user,phone,name}   provision a phone
//	POST /smsgate/devices/remove {realm,user,id}
//	POST /smsgate/reset    {realm,user}       remove devices and recovery codes, end sessions
//	POST /smsgate/revoke   {realm,user}       end sessions
//	POST /smsgate/invites  {realm,user,ttl}   a single-use enrollment link
//	GET  /smsgate/export                      lasting records as JSON
//	POST /smsgate/import                      records from an export
type AdminAPI struct{}

// CaddyModule returns the Caddy module information.
func (AdminAPI) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "admin.api.smsgate",
		New: func() caddy.Module { return new(AdminAPI) },
	}
}

// Routes implements caddy.AdminRouter.
func (a AdminAPI) Routes() []caddy.AdminRoute {
	return []caddy.AdminRoute{{Pattern: "/smsgate/", Handler: caddy.AdminHandlerFunc(a.serve)}}
}

// adminRequest is the body of the admin's POSTs.
type adminRequest struct {
	Realm string `json:"realm"`
	User  string `json:"user"`
	Phone string `json:"phone,omitempty"`
	Name  string `json:"name,omitempty"`
	ID    string `json:"id,omitempty"`
	TTL   string `json:"ttl,omitempty"`
}

func (a AdminAPI) serve(w http.ResponseWriter, r *http.Request) error {
	op := strings.TrimPrefix(r.URL.Path, "/smsgate/")
	if op == "export" || op == "users" && r.Method == http.MethodGet {
		realm := r.URL.Query().Get("realm")
		g := gateFor(realm)
		if g == nil {
			return caddy.APIError{HTTPStatus: http.StatusNotFound, Err: fmt.Errorf("no smsgate handler is running")}
		}
		if op == "export" {
			records, err := g.codes.Export(r.Context())
			if err != nil {
				return caddy.APIError{HTTPStatus: http.StatusInternalServerError, Err: err}
			}
			return writeAdmin(w, records)
		}
		if realm == "" {
			return caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: fmt.Errorf("realm is required")}
		}
		users, err := g.codes.Users(r.Context(), realm)
		if err != nil {
			return caddy.APIError{HTTPStatus: http.StatusInternalServerError, Err: err}
		}
		for i := range users {
			maskDevices(users[i].Devices)
		}
		return writeAdmin(w, users)
	}
	if r.Method != http.MethodPost {
		return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed, Err: fmt.Errorf("use POST")}
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<20)
	if op == "import" {
		var records []enrollment.Record
		if err := json.NewDecoder(r.Body).Decode(&records); err != nil {
			return caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: err}
		}
		g := gateFor("")
		if g == nil {
			return caddy.APIError{HTTPStatus: http.StatusNotFound, Err: fmt.Errorf("no smsgate handler is running")}
		}
		if err := g.codes.Import(r.Context(), records); err != nil {
			return caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: err}
		}
		return writeAdmin(w, map[string]int{"imported": len(records)})
	}
	var req adminRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		return caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: err}
	}
	if req.Realm == "" || req.User == "" {
		return caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: fmt.Errorf("realm and user are required")}
	}
	g := gateFor(req.Realm)
	if g == nil {
		return caddy.APIError{HTTPStatus: http.StatusNotFound, Err: fmt.Errorf("no smsgate handler is running")}
	}
	out, err := adminOp(r.Context(), g.codes, g.PathPrefix, g.DefaultRegion, op, req)
	if err != nil {
		return caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: err}
	}
	g.audit("admin_"+strings.ReplaceAll(op, "/", "_"), req.User, "")
	return writeAdmin(w, out)
}

// adminOp runs one admin operation on svc; the admin API and the CLI
// (working on a stopped Caddy's store) share it.
func adminOp(ctx context.Context, svc *enrollment.Service, prefix, region, op string, req adminRequest) (any, error) {
	switch op {
	case "users":
		e164, err := phone.Parse(req.Phone, region)
		if err != nil {
			return nil, err
		}
		id, err := svc.AddDevice(ctx, req.Realm, req.User, e164, req.Name)
		return map[string]string{"id": id}, err
	case "devices/remove":
		_, err := svc.RemoveDevice(ctx, req.Realm, req.User, req.ID, true)
		return map[string]string{"removed": req.ID}, err
	case "reset":
		return map[string]string{"reset": req.User}, svc.ResetUser(ctx, req.Realm, req.User)
	case "revoke":
		return map[string]string{"revoked": req.User}, svc.RevokeUser(ctx, req.Realm, req.User)
	case "invites":
		ttl := 7 * 24 * time.Hour
		if req.TTL != "" {
			d, err := caddy.ParseDuration(req.TTL)
			if err != nil || d <= 0 {
				return nil, fmt.Errorf("ttl: %q is not a duration", req.TTL)
			}
			ttl = d
		}
		token, err := svc.NewInvite(ctx, req.Realm, req.User, ttl)
		return map[string]string{"path": prefix + "invite?token=" + token, "expires": time.Now().Add(ttl).UTC().Format(time.RFC3339)}, err
	}
	return nil, fmt.Errorf("unknown operation %q", op)
}

// maskDevices hides numbers from listings: the admin sees what the user sees.
func maskDevices(list []enrollment.Device) {
	for i := range list {
		list[i].Phone = phone.Mask(list[i].Phone)
		list[i].PhoneHMAC = ""
	}
}

func writeAdmin(w http.ResponseWriter, v any) error {
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(v)
}

// Interface guard
var _ caddy.AdminRouter = AdminAPI{}
