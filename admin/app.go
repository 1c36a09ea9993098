// Package admin is smsgate's administration: the `smsgate` Caddy app (the
// running gates, by realm), the admin API on Caddy's admin endpoint
// (admin.api.smsgate), the `caddy smsgate …` commands, and the same
// commands on the store of a stopped Caddy. It changes users through
// package enrollment and sessions through package session; it never sees
// a request to the gate.
package admin

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyevents"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/smsgate/caddy-smsgate/internal/clock"
	"github.com/smsgate/caddy-smsgate/signin"
)

func init() {
	caddy.RegisterModule(new(App))
}

// App is the `smsgate` Caddy app: the gates of the running config, by
// realm, so that the admin API finds the store of the realm it is asked
// about (as caddypki's admin API finds its CAs). It needs no configuration:
// each gate loads it with ctx.App and registers itself.
type App struct {
	ctx   caddy.Context
	mu    sync.RWMutex
	sites []*Site
	// settleAt is when its settle started (set before any retry runs):
	// the provisioned users' sessions it ends are those issued before it.
	settleAt time.Time
	// probes says, of two gates whose stores hold one epoch record,
	// whether they are on one store (storePair → bool: oneStore).
	probes sync.Map
	// probesFailed is the pairs whose probe failed in this attempt
	// (oneStore); probesLogged, those logged, once.
	probesFailed, probesLogged sync.Map
	// settles are its realms with their numbers, built once at Start
	// (giveNumbers): the settle keeps what each gate was given.
	settles []realmSettle
	started atomic.Bool // settleProvisioned ran: it was the latest (RekeyTurn)
}

// CaddyModule returns the Caddy module information.
func (*App) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "smsgate", New: func() caddy.Module { return new(App) }}
}

// Provision keeps ctx, for Start, registers the app for the admin API
// (appOf), and has the provisioned users settled once the whole config
// runs: at Caddy's "started" event (experimental in Caddy), which a load
// emits once every app started. Not in Start: an app started after this
// one may fail, and Caddy then keeps the config before, whose numbers the
// store must keep (settleProvisioned).
func (a *App) Provision(ctx caddy.Context) error {
	a.ctx = ctx
	if ctx.Context == nil {
		return nil
	}
	provisioned.Store(ctx.Done(), a)
	events, err := ctx.App("events")
	if err != nil {
		return err
	}
	return events.(*caddyevents.App).On("started", runs(a.settleProvisioned))
}

// runs is a Caddy event handler that calls its function.
type runs func()

// Handle implements caddyevents.Handler.
func (f runs) Handle(context.Context, caddy.Event) error { f(); return nil }

// Cleanup forgets the app once its config stopped.
func (a *App) Cleanup() error {
	if a.ctx.Context != nil {
		provisioned.CompareAndDelete(a.ctx.Done(), a)
	}
	return nil
}

// provisioned are the smsgate apps of the configs loaded, by their
// config's context's Done channel (a module's context may carry values of
// its own: the channel is the config's). The admin API finds a config's app here, never with
// Caddy's own lookup (caddy.Context.AppIfConfigured): that reads the
// config's map of apps, which Caddy writes, unlocked, while it provisions
// the config, and the admin endpoint answers meanwhile (it starts before
// the apps load). An admin request during a load that adds the first
// gate (Caddy's start, or a reload from a config without one) read the
// map as Caddy wrote it: a data race, which a running Caddy may end with
// Go's "concurrent map read and map write", fatal to every site.
var provisioned sync.Map // <-chan struct{} → *App

// appOf is the smsgate app of ctx's config, once provisioned, or nil.
func appOf(ctx caddy.Context) *App {
	if ctx.Context == nil {
		return nil
	}
	a, _ := provisioned.Load(ctx.Done())
	app, _ := a.(*App)
	return app
}

// Start implements caddy.App: the gates run inside the http app, which
// is provisioned by now, whatever the config was written in; a config
// whose error routes hand a gate's refusals to its app is refused
// (CheckErrorRoutes), and one that loads is warned of a gate's server
// that trusts proxies without strict mode (warnLooseProxies, of the
// servers the check found gates on: one walk of the routes) or trusts a
// range wider than a LAN's (warnWideProxies: the Cookie echo). Not at caddy
// validate, which starts no app: the first gate provisions this app inside
// the http app's Provision, before its error and named routes, and nothing
// runs after that there. The gates are first given their realm's
// provisioned numbers (giveNumbers); the provisioned users are settled
// once every app started (Provision).
func (a *App) Start() error {
	if a.ctx.Context == nil {
		return nil
	}
	a.giveNumbers()
	if app, err := a.ctx.AppIfConfigured("http"); err == nil {
		gated, err := CheckErrorRoutes(app.(*caddyhttp.App))
		if err != nil {
			return err
		}
		if err := checkIdentitySetters(app.(*caddyhttp.App)); err != nil {
			return err
		}
		warnLooseProxies(app.(*caddyhttp.App), gated, a.ctx.Logger())
		warnWideProxies(app.(*caddyhttp.App), gated, a.ctx.Logger())
	}
	return nil
}

// settling is the config that started last (a retry of an older one
// settles nothing: its numbers are no longer the config's), and the lock
// of each realm on a store (settleKey → *sync.Mutex), which its settles
// take in turn: a settle of another realm or store never waits on one
// whose store hangs.
var settling struct {
	latest atomic.Pointer[App]
	locks  sync.Map
}

// settleRetry is the first wait before a failed settle is tried again:
// 1 s, unless a test shortened it (clock.Shorten).
var settleRetry = clock.NewWait("settle-retry", time.Second)

// realmSettle is a realm's gates on one store, settled together, and
// the numbers they give each provisioned user (signin.NumbersOf).
type realmSettle struct {
	key   string // realm and store
	realm string
	sites []*Site // the gates' admin views
	gates []*signin.Service
	given map[string][]string
}

// settleProvisioned settles the provisioned users of the config that
// started now, realm by realm (settle); where the store failed, or an
// older config's settle of the realm still holds its lock (a retry
// waiting on a store that hangs: Caddy's load does not wait for it), it
// tries that realm again in the background, after 1 s, then twice as
// long each time up to a minute, until it succeeds, the config stops, or
// another config starts (which settles them itself): a reload while the
// store is down still ends what a phone taken away earned once the store
// is back. Each failure is logged (signin.SettleProvisioned). A realm
// grouped where a probe failed at the start (unsure: two stores holding
// one epoch record taken as one) is never settled on that guess: the
// retry asks again, and groups its gates anew first (regroup).
func (a *App) settleProvisioned() {
	settling.latest.Store(a)
	a.started.Store(true)
	realms := a.settles // as the gates were given them
	if len(realms) > 0 {
		a.settleAt = realms[0].gates[0].Devices.Now() // a retry ends only what was issued before the start
	}
	for _, r := range realms {
		if !a.unsure(r.sites) && a.settle(r, (*sync.Mutex).TryLock) == nil {
			continue
		}
		go a.retry([]realmSettle{r})
	}
}

// retry settles rs again until each is settled, after 1 s, then twice
// as long each time up to a minute; a realm whose probe failed at the
// start (unsure) is first grouped again, once the probe answers (regroup).
func (a *App) retry(rs []realmSettle) {
	for wait := range settleRetry.Doubling() {
		if len(rs) == 0 {
			return
		}
		select {
		case <-a.ctx.Done():
			return
		case <-time.After(wait):
		}
		if settling.latest.Load() != a {
			return // replaced: the newer config settles (settle would refuse)
		}
		var sure bool
		if rs, sure = a.regroup(rs); !sure {
			continue
		}
		rs = slices.DeleteFunc(rs, func(r realmSettle) bool {
			return a.settle(r, func(mu *sync.Mutex) bool { mu.Lock(); return true }) == nil
		})
	}
}

// realmsOf are the realms sites serve, each with every gate of sites in
// the realm on one store.
func (a *App) realmsOf(sites []*Site) []realmSettle {
	var done []*Site
	var realms []realmSettle
	for _, s := range sites {
		if s.SignIn == nil || slices.Contains(done, s) {
			continue
		}
		r := realmSettle{key: s.settleKey(), realm: s.Realm}
		for _, g := range s.realmGates() {
			if g.SignIn != nil && slices.Contains(sites, g) {
				r.sites, r.gates = append(r.sites, g), append(r.gates, g.SignIn)
				done = append(done, g)
			}
		}
		r.given = signin.NumbersOf(r.gates)
		realms = append(realms, r)
	}
	return realms
}

// settle settles the provisioned users of r under its lock, taken by
// lock, unless another config started since (signin.SettleProvisioned);
// errBusy where lock did not take it.
func (a *App) settle(r realmSettle, lock func(*sync.Mutex) bool) error {
	mu, _ := settling.locks.LoadOrStore(r.key, new(sync.Mutex))
	if !lock(mu.(*sync.Mutex)) {
		return errBusy
	}
	defer mu.(*sync.Mutex).Unlock()
	if settling.latest.Load() != a {
		return nil
	}
	return signin.SettleProvisioned(a.ctx, r.realm, a.settleAt, r.gates, r.given)
}

// errBusy is a settle's answer where an older one holds the realm.
var errBusy = errors.New("an older config's settle of the realm is running")

// Stop implements caddy.App.
func (*App) Stop() error { return nil }

// Register adds a provisioned gate; the gate sees the others through the
// app (Site.realmGates), and warns of those that check differently
// (warnMixedChecks).
func (a *App) Register(s *Site) {
	a.mu.Lock()
	s.app = a
	a.sites = append(a.sites, s)
	a.mu.Unlock()
	s.warnMixedChecks()
}

// all is the config's gates now (none for a nil app).
func (a *App) all() []*Site {
	if a == nil {
		return nil
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	return slices.Clone(a.sites)
}

// Unregister takes a gate off the list when it is cleaned up.
func (a *App) Unregister(s *Site) {
	a.mu.Lock()
	a.sites = slices.DeleteFunc(a.sites, func(x *Site) bool { return x == s })
	a.mu.Unlock()
}

// Site is the gate serving realm, or the only realm when realm is empty;
// an unknown or ambiguous realm is an error (see pick).
func (a *App) Site(realm string) (*Site, error) {
	if a == nil {
		return nil, errNoGate
	}
	return pick(a.all(), realm)
}

// Interface guard
var (
	_ caddy.App          = (*App)(nil)
	_ caddy.Provisioner  = (*App)(nil)
	_ caddy.CleanerUpper = (*App)(nil)
)
