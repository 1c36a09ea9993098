package caddymodule

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/internal/textsafe"
	"github.com/smsgate/caddy-smsgate/phone"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/words"
)

func init() {
	caddy.RegisterModule(new(AdminAPI))
}

// pickGate chooses among gates the one serving realm, or the only realm
// when realm is empty. An unknown realm, several realms with none named,
// or one realm on gates with different stores is an error: an admin's
// change must never land in another site's store. Of a realm's gates, one
// that enrolls phones (no require) is preferred: the links the tools print
// (invites) must lead somewhere a new user can enroll.
func pickGate(gates []*Gate, realm string) (*Gate, error) {
	var realms []string
	for _, g := range gates {
		if !slices.Contains(realms, g.Realm) {
			realms = append(realms, g.Realm)
		}
	}
	slices.Sort(realms)
	realm = strings.ToLower(realm)
	switch {
	case len(gates) == 0:
		return nil, errNoGate
	case realm == "" && len(realms) > 1:
		return nil, &adminError{http.StatusBadRequest, fmt.Errorf("several realms are served (%s): name one with realm", strings.Join(realms, ", "))}
	case realm == "":
		realm = realms[0]
	case !slices.Contains(realms, realm):
		return nil, &adminError{http.StatusNotFound, fmt.Errorf("no smsgate handler serves realm %s (realms: %s)", realm, strings.Join(realms, ", "))}
	}
	var found *Gate
	for _, g := range gates {
		if g.Realm != realm {
			continue
		}
		if found != nil && found.storeIdentity() != g.storeIdentity() {
			return nil, &adminError{http.StatusConflict, fmt.Errorf("realm %s is served by gates with different stores: the admin tools cannot tell which one you mean", realm)}
		}
		if found == nil || (len(found.Require) > 0 && len(g.Require) == 0) {
			found = g
		}
	}
	return found, nil
}

// enrolls refuses an invite for a gate where a phone cannot be enrolled:
// a route that requires another kind (an app, a passkey) sends no texts.
func (g *Gate) enrolls() error {
	if len(g.Require) > 0 {
		return fmt.Errorf("realm %s is served here only by gates with require %s, where no phone can be enrolled: add a gate without require for invites to lead to",
			g.Realm, strings.Join(g.Require, " "))
	}
	return nil
}

// adminError is an admin request's failure with its HTTP status.
type adminError struct {
	status int
	err    error
}

func (e *adminError) Error() string { return e.err.Error() }

var errNoGate = &adminError{http.StatusNotFound, errors.New("no smsgate handler is configured")}

// badRequest is the admin's own mistake, with its words.
func badRequest(msg string) error { return &adminError{http.StatusBadRequest, errors.New(msg)} }

// errStoreDown is what the admin is told when the store cannot answer: the
// cause (an address, a driver's message) goes to Caddy's log only.
const errStoreDown = "the store did not answer (the cause is in Caddy's log); try again once it is back"

// apiError turns an error into Caddy's admin API error: the admin's own
// mistakes (an unknown realm or device, a bad number, a malformed body)
// with their status and words; anything else is the store failing — 503
// and a short message, never the driver's text.
func apiError(err error) error {
	var (
		ae  *adminError
		ie  *enrollment.ImportError
		big *http.MaxBytesError
	)
	switch {
	case errors.As(err, &ae):
		return caddy.APIError{HTTPStatus: ae.status, Err: err}
	case errors.As(err, &big):
		return caddy.APIError{HTTPStatus: http.StatusRequestEntityTooLarge, Err: err}
	case errors.As(err, &ie), errors.As(err, new(words.Worded)):
		return caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: err}
	}
	return caddy.APIError{HTTPStatus: http.StatusServiceUnavailable, Err: err, Message: errStoreDown}
}

// decodeError is a request body that is not the JSON asked for.
func decodeError(err error) error {
	var big *http.MaxBytesError
	if errors.As(err, &big) {
		return err
	}
	return &adminError{http.StatusBadRequest, fmt.Errorf("the request body is not valid JSON: %v", err)}
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
//	GET  /smsgate/export?realm=R[&with_keys=1]  lasting records as JSON (keys only if asked)
//	POST /smsgate/import?realm=R              records from an export (accepts a frozen store)
//	POST /smsgate/store/accept {realm,new_secret}  a wiped store's new state, so that enrollment goes on
//	GET  /smsgate/figures?realm=R[&days=N]    texts, calls, receipts, codes and costs by day, country and provider
//	GET  /smsgate/pumping?realm=R             the pumping guard's pauses
//	POST /smsgate/pumping/resume {realm,place}  ends a pause now
//
// The admin's mistakes are 4xx with what to fix; a store that cannot
// answer is 503, its cause in Caddy's log only.
//
// The realm may be left out only while Caddy serves one; an unknown or
// ambiguous realm is an error, never another site's store.
type AdminAPI struct {
	ctx caddy.Context
}

// Provision keeps the config's context: the smsgate app it holds is
// looked up per request, as the gates load it after the admin endpoint.
func (a *AdminAPI) Provision(ctx caddy.Context) error {
	a.ctx = ctx
	return nil
}

// gateFor finds the running gate that serves realm (or the only realm,
// when realm is empty): its store is what the admin's request works on.
func (a *AdminAPI) gateFor(realm string) (*Gate, error) {
	v, err := a.ctx.AppIfConfigured("smsgate")
	if err != nil {
		return nil, errNoGate
	}
	return v.(*App).Gate(realm)
}

// CaddyModule returns the Caddy module information.
func (AdminAPI) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "admin.api.smsgate",
		New: func() caddy.Module { return new(AdminAPI) },
	}
}

// Routes implements caddy.AdminRouter.
func (a *AdminAPI) Routes() []caddy.AdminRoute {
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
	// NewSecret, with store/accept: make a new signing secret, so that
	// every session from before ends (a wipe lost their revocations).
	NewSecret bool `json:"new_secret,omitempty"`
	// Place is a paused country or prefix (pumping/resume); Days, the
	// figures' span (sent as a query).
	Place string `json:"place,omitempty"`
	Days  string `json:"-"`
}

func (a *AdminAPI) serve(w http.ResponseWriter, r *http.Request) error {
	out, err := a.answer(w, r)
	if err != nil {
		return apiError(err)
	}
	return writeAdmin(w, out)
}

// answer runs one admin request.
func (a *AdminAPI) answer(w http.ResponseWriter, r *http.Request) (any, error) {
	op := strings.TrimPrefix(r.URL.Path, "/smsgate/")
	q := r.URL.Query()
	ctx := r.Context()
	if op == "figures" || op == "pumping" || op == "pumping/resume" {
		return a.countingOp(w, r, op) // figures.go
	}
	if op == "export" || op == "users" && r.Method == http.MethodGet {
		realm := q.Get("realm")
		if op == "users" && realm == "" {
			return nil, badRequest("realm is required")
		}
		g, err := a.gateFor(realm)
		if err != nil {
			return nil, err
		}
		if op == "export" {
			records, err := g.admin.Export(ctx, q.Get("with_keys") == "1")
			if err == nil {
				g.audit("admin_export", "", "", zap.Bool("with_keys", q.Get("with_keys") == "1"))
			}
			return records, err
		}
		users, err := g.admin.Users(ctx, g.Realm)
		for i := range users {
			maskDevices(users[i].Devices)
		}
		return users, err
	}
	if r.Method != http.MethodPost {
		return nil, &adminError{http.StatusMethodNotAllowed, errors.New("use POST")}
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<20)
	if op == "import" {
		var records []enrollment.Record
		if err := json.NewDecoder(r.Body).Decode(&records); err != nil {
			return nil, decodeError(err)
		}
		g, err := a.gateFor(q.Get("realm"))
		if err != nil {
			return nil, err
		}
		if err := g.admin.Import(ctx, records); err != nil {
			return nil, err
		}
		accepted, err := afterImport(ctx, g.watch.epoch)
		if err != nil {
			return nil, err
		}
		g.audit("admin_import", "", "", zap.Int("records", len(records)), zap.Bool("store_accepted", accepted))
		return map[string]any{"imported": len(records), "store_accepted": accepted}, nil
	}
	var req adminRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		return nil, decodeError(err)
	}
	if (op == "users" || op == "invites") && (!textsafe.Clean(req.User) || len(req.User) > MaxIdentity) {
		// Nobody could sign in as it (see priorIdentity), and it would
		// rearrange every list it is shown in.
		return nil, badRequest(fmt.Sprintf("user: a name is at most %d bytes, without control or direction characters", MaxIdentity))
	}
	g, err := a.gateFor(req.Realm)
	if err != nil {
		return nil, err
	}
	if op == "store/accept" {
		out, err := acceptStore(ctx, g.watch.epoch, g.store, req.NewSecret, g.SigningKey != "")
		if err != nil {
			return nil, err
		}
		g.alarm(zap.InfoLevel, "store_accepted", "an admin accepted the store's new state: enrollment goes on", zap.String("how", "accept-store"))
		if _, err := g.sessions.Reconcile(ctx); err != nil { // a new secret: signed with at once here
			return nil, err
		}
		return out, nil
	}
	if req.User == "" {
		return nil, badRequest("user is required")
	}
	req.Realm = g.Realm
	if op == "invites" {
		if err := g.enrolls(); err != nil {
			return nil, &adminError{http.StatusConflict, err}
		}
	}
	out, err := adminOp(ctx, g.admin, g.linkOrigin()+g.PathPrefix, g.DefaultRegion, op, req)
	if err != nil {
		return nil, err
	}
	if op == "users" {
		g.sawUsers(ctx)
	}
	g.audit("admin_"+strings.ReplaceAll(op, "/", "_"), req.User, "")
	return out, nil
}

// adminOp runs one admin operation on svc; the admin API and the CLI
// (working on a stopped Caddy's store) share it.
func adminOp(ctx context.Context, svc *enrollment.Admin, prefix, region, op string, req adminRequest) (any, error) {
	switch op {
	case "users":
		e164, err := phone.Parse(req.Phone, region)
		if err != nil {
			return nil, err
		}
		id, err := svc.Devices.Add(ctx, req.Realm, req.User, e164, req.Name)
		return map[string]string{"id": id}, err
	case "devices/remove":
		_, err := svc.Devices.Remove(ctx, req.Realm, req.User, req.ID, true)
		return map[string]string{"removed": req.ID}, err
	case "reset":
		if err := svc.Devices.ResetUser(ctx, req.Realm, req.User); err != nil {
			return nil, err
		}
		if err := session.UntrustAll(ctx, svc.Store, req.Realm, req.User); err != nil {
			return nil, err
		}
		return map[string]string{"reset": req.User}, session.RevokeUser(ctx, svc.Store, req.Realm, req.User, svc.Now())
	case "revoke":
		// Every session and every trust: the trusts would not work any
		// more, and the devices page must not list them as if they did.
		if err := session.UntrustAll(ctx, svc.Store, req.Realm, req.User); err != nil {
			return nil, err
		}
		return map[string]string{"revoked": req.User}, session.RevokeUser(ctx, svc.Store, req.Realm, req.User, svc.Now())
	case "invites":
		ttl := 7 * 24 * time.Hour
		if req.TTL != "" {
			d, err := caddy.ParseDuration(req.TTL)
			if err != nil || d <= 0 {
				return nil, badRequest(fmt.Sprintf("ttl: %q is not a duration", req.TTL))
			}
			ttl = d
		}
		token, err := svc.NewInvite(ctx, req.Realm, req.User, ttl)
		link := prefix + "invite?token=" + token
		_, path, _ := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(link, "https://"), "http://"), "/")
		return map[string]string{"url": link, "path": "/" + path, "expires": time.Now().Add(ttl).UTC().Format(time.RFC3339)}, err
	}
	return nil, &adminError{http.StatusNotFound, fmt.Errorf("unknown operation %q", op)}
}

// linkOrigin is where the links the admin's tools print point: the
// public origin, else the site's own address, else https and the realm.
func (g *Gate) linkOrigin() string {
	switch {
	case g.PublicOrigin != "":
		return g.PublicOrigin
	case g.SiteOrigin != "":
		return strings.TrimSuffix(g.SiteOrigin, "/")
	}
	return "https://" + g.Realm
}

// maskDevices hides numbers and apps' (sealed) secrets from listings: the
// admin sees what the user sees.
func maskDevices(list []enrollment.Device) {
	for i := range list {
		list[i].Phone = phone.Mask(list[i].Phone)
		list[i].PhoneHMAC, list[i].Secret, list[i].Credential = "", "", nil
	}
}

// writeAdmin answers v as JSON; names' direction and control characters go
// as \u escapes (the same strings to a JSON reader, harmless in a terminal).
func writeAdmin(w http.ResponseWriter, v any) error {
	w.Header().Set("Content-Type", "application/json")
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(textsafe.EscapeJSON(raw), '\n'))
	return err
}

// Interface guard
var (
	_ caddy.AdminRouter = (*AdminAPI)(nil)
	_ caddy.Provisioner = (*AdminAPI)(nil)
)
