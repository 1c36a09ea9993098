package admin

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/internal/textsafe"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
)

func init() {
	caddy.RegisterModule(new(AdminAPI))
}

// AdminAPI serves smsgate's admin operations on Caddy's admin endpoint
// (so it has the same listener, origin checks and trust as Caddy's own
// admin API): the `caddy smsgate` commands use it while Caddy runs.
//
//	GET  /smsgate/users?realm=R               users and their devices
//	POST /smsgate/users    {realm,user,phone,name}   provision a phone
//	POST /smsgate/devices/remove {realm,user,id}
//	POST /smsgate/reset    {realm,user}       remove devices and recovery codes, end sessions and the invites
//	                                          the user minted at the console (answered: invites_ended, and
//	                                          invites_used, a list of the users who enrolled by one)
//	POST /smsgate/revoke   {realm,user}       end sessions, and those invites
//	GET  /smsgate/sessions?realm=R&user=U     a user's sessions (since sessions were listed), newest first
//	POST /smsgate/sessions/end {realm,user,id}  end one of them (one signed out: the invites it minted)
//	GET  /smsgate/sessions/signed-out?realm=R&user=U  those signed out with console invites still open
//	GET  /smsgate/sessions/unlisted?realm=R&user=U  how many the list (the newest 20) pushed out
//	POST /smsgate/sessions/end-unlisted {realm,user}  end those, with their trusted browsers
//	POST /smsgate/invites  {realm,user,ttl}   a single-use enrollment link
//	GET  /smsgate/export?realm=R              lasting records as JSON, without keys
//	POST /smsgate/export?realm=R&with_keys=1  the same with the signing secret and session keys (a GET
//	                                          still works for one release, with a warning in the log)
//	POST /smsgate/import?realm=R              records from realm R's export (accepts a frozen store)
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

// siteFor finds the running gate that serves realm (or the only realm,
// when realm is empty): its store is what the admin's request works on.
// The gates are the running config's (caddy.ActiveContext), else, while
// there is none (the first config, started but not yet Caddy's running
// one), those of the config this module was loaded with, unless that one
// was stopped: at a reload Caddy starts the new config's admin endpoint
// before it loads the apps, and stops the old one only after the new
// config runs, while both accept on one listener; so an admin's request
// right after a reload (a connection kept alive, or one the old endpoint
// accepted) met the old config's app, whose gates were cleaned up (404,
// "no smsgate handler is configured"). The running config's app holds all
// its gates, registered in their Provision, until the next config runs
// (and Caddy makes it the running one before it stops the old).
func (a *AdminAPI) siteFor(realm string) (*Site, error) {
	for _, ctx := range []caddy.Context{caddy.ActiveContext(), a.ctx} {
		if ctx.Context == nil || ctx.Err() != nil {
			continue // none yet, or stopped
		}
		if app := appOf(ctx); app != nil { // never ctx.AppIfConfigured: see provisioned
			return app.Site(realm)
		}
	}
	return nil, errNoGate
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

func (a *AdminAPI) serve(w http.ResponseWriter, r *http.Request) error {
	out, err := a.answer(w, r.WithContext(Bounded(r.Context())))
	if err != nil {
		return apiError(err)
	}
	return writeAdmin(w, out)
}

// Bounded is an admin request's context for its store work (the admin API
// and the CLI on a stopped Caddy's store): bounded as a page's is, by
// store.RequestBudget of store time in all (a store that does not answer
// is a 503 soon, not a wait of go-redis's read timeout on each call in a
// row), and whole once begun: a client that hangs up does not stop a
// change half-way (a reset that revoked the sessions but kept the
// phones), as the work was acknowledged when the request was read.
// Scans (users, export) are not held to the budget in all, as they take
// as long as the store is large, but each of their round trips is (a
// store that hangs part way ends the scan within it: store.Redis.Scan);
// an import has a budget of its own (enrollment.Admin.Import).
func Bounded(ctx context.Context) context.Context {
	return store.WithBudget(context.WithoutCancel(ctx), store.RequestTime())
}

// DeprecatedKeysByGET is the warning an export of the keys by GET logs:
// they mint sessions, so they are for a POST (an admin role allowed only
// GETs must not get them). The GET works for one more release.
const DeprecatedKeysByGET = "deprecated: GET /smsgate/export?with_keys=1"

// answer runs one admin request.
func (a *AdminAPI) answer(w http.ResponseWriter, r *http.Request) (any, error) {
	op := strings.TrimPrefix(r.URL.Path, "/smsgate/")
	q := r.URL.Query()
	ctx := r.Context()
	if op == "figures" || op == "pumping" || op == "pumping/resume" {
		return a.countingOp(w, r, op) // figures.go
	}
	withKeys := op == "export" && q.Get("with_keys") == "1"
	if op == "export" && r.Method != http.MethodGet && (!withKeys || r.Method != http.MethodPost) {
		// A read: a POST or DELETE that exported would let a cross-site
		// form (or a mistaken script) take the records. The keys are the
		// exception (exportMethod).
		if withKeys {
			return nil, notAllowed(w, "use POST (or GET, deprecated)", http.MethodGet, http.MethodPost)
		}
		return nil, notAllowed(w, "use GET (POST with with_keys=1)", http.MethodGet)
	}
	if (op == "sessions" || op == "sessions/unlisted" || op == "sessions/signed-out") && r.Method != http.MethodGet {
		return nil, notAllowed(w, "use GET", http.MethodGet) // sessions/end ends one
	}
	if op == "export" || ((op == "users" || op == "sessions" || op == "sessions/unlisted" || op == "sessions/signed-out") && r.Method == http.MethodGet) {
		g, err := a.siteFor(q.Get("realm"))
		if err != nil {
			return nil, err
		}
		if op == "sessions" {
			return g.UserSessions(ctx, q.Get("user"))
		}
		if op == "sessions/signed-out" {
			return g.SignedOutSessions(ctx, q.Get("user"))
		}
		if op == "sessions/unlisted" {
			if q.Get("user") == "" { // nobody's sessions
				return nil, badRequest("user is required")
			}
			return g.UnlistedSessions(ctx, q.Get("user"))
		}
		if op == "export" {
			if withKeys && r.Method == http.MethodGet {
				g.Logger.Warn(DeprecatedKeysByGET, zap.String("use", "POST /smsgate/export?with_keys=1, as `caddy smsgate export --with-keys` does: "+
					"the next release refuses the GET, so that an admin role allowed only reads cannot take the signing secret"))
			}
			if err := answers(ctx, g.Store); err != nil {
				return nil, err
			}
			records, err := g.Admin.Export(ctx, g.Realm, withKeys)
			if err == nil {
				g.Audit("admin_export", "", "", zap.Bool("with_keys", withKeys), zap.String("method", r.Method))
			}
			return records, err
		}
		return g.Users(ctx)
	}
	if r.Method != http.MethodPost {
		if op == "users" {
			return nil, notAllowed(w, "use GET to list, POST to add", http.MethodGet, http.MethodPost)
		}
		return nil, notAllowed(w, "use POST", http.MethodPost)
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<20)
	if op == "import" {
		var records []enrollment.Record
		if err := decodeBody(r.Body, &records); err != nil {
			return nil, err
		}
		g, err := a.siteFor(q.Get("realm"))
		if err != nil {
			return nil, err
		}
		if err := checkImport(g.Realm, records); err != nil {
			return nil, err
		}
		done, err := g.Admin.Import(ctx, records)
		if err != nil {
			return nil, err
		}
		accepted, err := afterImport(ctx, g.Epoch)
		if err != nil {
			return nil, err
		}
		// The record of when the cookies were renamed it may carry decides
		// which old-name cookies count here from now on (session's renamed.go).
		if err := g.Sessions.RereadRenamed(ctx); err != nil {
			g.Logger.Warn("reading the store's record of when the cookies were renamed after the import: the next look at the store does", zap.Error(err))
		}
		g.Audit("admin_import", "", "", zap.Int("records", len(records)), zap.Bool("store_accepted", accepted), zap.Bool("keys_replaced", done.KeysReplaced),
			zap.Int("devices_not_restored", done.Devices), zap.Int("recovery_codes_not_restored", done.RecoveryCodes))
		return importSummary(len(records), accepted, done), nil
	}
	var req Request
	if err := decodeBody(r.Body, &req); err != nil {
		return nil, err
	}
	g, err := a.siteFor(req.Realm)
	if err != nil {
		return nil, err
	}
	if op == "store/accept" {
		out, err := acceptStore(ctx, g.Epoch, g.Store, req.NewSecret, g.SigningKey != "")
		if err != nil {
			return nil, err
		}
		g.Alarm(zap.InfoLevel, "store_accepted", "an admin accepted the store's new state: enrollment goes on", zap.String("how", "accept-store"))
		if _, err := g.Sessions.Reconcile(ctx); err != nil { // a new secret: signed with at once here
			return nil, err
		}
		return out, nil
	}
	return g.Change(ctx, op, req, "")
}

// notAllowed refuses a request's method: 405, its Allow naming every
// method the endpoint takes.
func notAllowed(w http.ResponseWriter, msg string, allow ...string) error {
	w.Header().Set("Allow", strings.Join(allow, ", "))
	return &adminError{http.StatusMethodNotAllowed, errors.New(msg)}
}

// Change runs one of the admin's changes to a user (users: add a phone;
// devices/remove, reset, revoke, invites) on the running gate, once its
// checks passed (Site.check, which the CLI on a stopped Caddy's store
// runs too), and audits it with by, the admin who did it (empty: the
// admin API, whose caller Caddy's admin endpoint vouched for; the ends of
// sessions, a reset and a revoke are audited by signin.Ends). The admin
// API and the console (package pages) share it. An invite's link leads
// to a gate of the realm that signs its user in (inviteGate).
func (s *Site) Change(ctx context.Context, op string, req Request, by string) (any, error) {
	to, err := s.check(op, req)
	if err != nil {
		return nil, err
	}
	req.Realm, req.by, req.audit, req.lifetime = s.Realm, by, s.Audit, s.lifetime()
	out, err := adminOp(ctx, s.Admin, s.SignIn, s.Logger, to.LinkOrigin()+to.prefix(), s.DefaultRegion, op, req)
	if err != nil {
		return nil, err
	}
	if op == "users" {
		s.sawUsers(ctx)
	}
	if strings.HasPrefix(op, "sessions/") || op == "reset" || op == "revoke" {
		return out, nil // audited by signin's end (signin.Ends)
	}
	var fields []zap.Field
	if by != "" {
		fields = append(fields, zap.String("by", by))
	}
	if req.ID != "" {
		fields = append(fields, zap.String("device", req.ID))
	}
	fields = append(fields, endedField(out)...)
	s.Audit("admin_"+strings.NewReplacer("/", "_", "-", "_").Replace(op), req.User, "", fields...)
	return out, nil
}

// Users lists the realm's users and their devices, numbers masked.
func (s *Site) Users(ctx context.Context) ([]enrollment.UserInfo, error) {
	if err := answers(ctx, s.Store); err != nil {
		return nil, err
	}
	users, err := s.Admin.Users(ctx, s.Realm)
	for i := range users {
		maskDevices(users[i].Devices)
	}
	return users, err
}

// UserSessions lists user's sessions, newest first: those signed since
// sessions were listed (see session.Sessions) that nothing has ended.
func (s *Site) UserSessions(ctx context.Context, user string) ([]session.Info, error) {
	if user == "" {
		return nil, badRequest("user is required")
	}
	list, err := session.Sessions(ctx, s.Store, s.Realm, user, s.now())
	if list == nil && err == nil {
		list = []session.Info{} // [] in JSON, not null
	}
	return list, err
}

// UnlistedSessions is what user's list of sessions pushed out and may still
// be live (session.Unlisted): the admin API's and the console's.
func (s *Site) UnlistedSessions(ctx context.Context, user string) (session.Unlisted, error) {
	return session.UnlistedSessions(ctx, s.Store, s.Realm, user, s.now())
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
