package caddymodule

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyevents"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/admin"
	"github.com/smsgate/caddy-smsgate/audit"
	"github.com/smsgate/caddy-smsgate/continuity"
	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/cfutil"
	"github.com/smsgate/caddy-smsgate/internal/clock"
	"github.com/smsgate/caddy-smsgate/internal/handoff"
	"github.com/smsgate/caddy-smsgate/pages"
	"github.com/smsgate/caddy-smsgate/phone"
	"github.com/smsgate/caddy-smsgate/providers"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/signin"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/storewatch"
	"github.com/smsgate/caddy-smsgate/words"
)

// Provision builds the running gate (gate, runtime.go): it settles and
// checks the config (check.go), loads the providers and the store's module,
// then opens the store and builds on it (open): a store that cannot open
// fails the load before the config listens. Not in `caddy validate`, which
// never starts the config (cfutil.Validating): it opens nothing.
func (g *Gate) Provision(ctx caddy.Context) error {
	if g.run == nil {
		g.run = new(gate) // from JSON: no Caddyfile lines
	}
	rt := g.run
	rt.logger = ctx.Logger()
	rt.now, rt.coarse = clock.From(ctx)
	key, err := handoff.KeyOf(g) // as configured (placeholders unresolved: see KeyOf)
	if err != nil {
		return err
	}
	rt.key = key
	c, s, err := rt.settle(ctx, g)
	if err != nil {
		return err
	}
	rt.log = &audit.Log{Logger: rt.logger, Realm: c.Realm, Ctx: ctx}
	if ev, err := loadApp(ctx, "events"); err == nil {
		rt.log.Events = ev.(*caddyevents.App)
	}
	if err := rt.loadStore(ctx, c); err != nil {
		return err
	}
	if app, err := loadApp(ctx, "smsgate"); err == nil {
		rt.app = app.(*admin.App)
	}
	if validating() {
		return nil // never started: no store opened, nothing built on one
	}
	return rt.open(ctx, c, s)
}

var validating = cfutil.Validating // a test sets it

// open opens the store (store.Open: its failure fails the load, naming the
// store), then builds the gate on it.
func (g *gate) open(ctx caddy.Context, c *Gate, s *settled) error {
	if err := g.openStore(ctx, c, s); err != nil {
		return err
	}
	devices, err := g.buildEnrollment(ctx, c, s)
	if err != nil {
		return err
	}
	g.buildSignIn(c, s, devices)
	g.buildSite(s)
	g.buildPages(c, s)
	if g.app != nil {
		g.app.Register(g.site) // shows the gate to the admin's tools
	}
	g.start(c)
	successors.Add(g.key, g) // ready to serve what a replaced gate hands off
	return nil
}

// start sets what serving reads of c and the hot line, and starts the
// watch; the keys derived from the secret follow the store's.
func (g *gate) start(c *Gate) {
	g.sessions.OnNewSecret(func(secret []byte) {
		if err := g.keys.Rekey(secret); err != nil {
			g.logger.Error("deriving keys from the store's new secret", zap.Error(err))
		}
	})
	g.watch.Start(g.sessions)
	g.identity, g.maxAge, g.assertionHeader = c.Identity, time.Duration(c.MaxAge), c.AssertionHeader
	g.authHeaders = c.AuthHeaders
	if len(g.authHeaders) == 0 {
		g.authHeaders = map[string]string{"Remote-User": "{smsgate.user}"}
	}
	g.loginPage = c.PortalURL + c.PathPrefix + "login"
	g.hot = hot{prefix: c.PathPrefix, assertion: c.AssertionHeader != "", sessions: g.sessions.Repeat(),
		earns: g.policy.Earns(), noIdentity: c.Identity == IdentityNone, anySession: g.everySessionPasses()}
}

// settled is what the checked config gives the later steps.
type settled struct {
	signingKey, phoneKey []byte
	pages                *pages.Templates
	messages             *enrollment.Templates
	limits               enrollment.Limits
	policy               *phone.Policy
	users, phones        map[string]signin.User
	identity             signin.Identity
	checker              providers.Checker
	admin                admin.Config
}

// settle checks a copy of the config conf with its defaults (c: the
// later steps read it; conf stays as written), and loads what it names
// (templates, messages, providers), touching no store.
func (g *gate) settle(ctx caddy.Context, conf *Gate) (c *Gate, s *settled, err error) {
	if c = conf.withDefaults(); c.StoreRaw == nil {
		c.StoreRaw = json.RawMessage(`{"module":"badger"}`)
	}
	if err := g.check(c); err != nil {
		return nil, nil, err
	}
	s = new(settled)
	if err := g.load(c, s, nil); err != nil {
		return nil, nil, err
	}
	// Both checked (check).
	s.limits, _ = c.limits()
	s.policy = c.numberPolicy()
	s.settleUsers(c)
	if c.CookieDomain != "" {
		g.logger.Warn("cookie_domain hands the session cookie to every host under it: any of them that is not yours, or that logs request headers, can replay it as the user. Use it only for a domain whose every host you run",
			zap.String("realm", c.Realm), zap.String("cookie_domain", c.CookieDomain))
	}
	if h, port := pages.PortlessRedirectHost(c.RedirectHosts, c.PortalURL); h != "" {
		g.logger.Warn(pages.PortlessWarning, zap.String("redirect_hosts", h), zap.String("portal_port", port))
	}
	// The admin's tools read the config's JSON, as they read a stopped
	// Caddy's (before LoadModule forgets its raw parts): types that drifted apart stop the load.
	b, err := json.Marshal(c)
	if err = cmp.Or(err, json.Unmarshal(b, &s.admin)); err != nil {
		return nil, nil, fmt.Errorf("reading the config as the admin's tools do: %v", err)
	}
	if s.checker, err = g.loadProviders(ctx, c); err != nil {
		return nil, nil, err
	}
	g.storeID, g.former = continuity.Identity(c.StoreRaw), continuity.Former(c.StoreRaw) // before LoadModule clears StoreRaw
	g.linkOrigin = s.admin.LinkOrigin()
	return c, s, nil
}

// load reads what the config c takes from the machine it runs on
// (secrets, folders; the providers' options: loadProviders, and the
// adapter's providers.CheckResolved); with absent set
// (adapting), one not there (cfutil.Absent) goes to it, and the rest is read.
func (g *gate) load(c *Gate, s *settled, absent func(error)) (err error) {
	for _, step := range []func() error{
		func() error {
			s.signingKey, s.phoneKey, err = cfutil.Secrets(c.SigningKey, c.VerifyOnlyKey)
			return err
		},
		func() error { s.pages, err = pages.LoadTemplates(c.TemplatesDir); return err },
		func() error { // the English texts fit (check): a message that does not is the admin's
			if g.words, err = words.Load(c.MessagesDir); err == nil {
				s.messages, err = g.templates(c, g.words)
			}
			return cfutil.Folder("messages_dir", c.MessagesDir, err)
		},
	} {
		if err := step(); cfutil.Stops(err, absent) {
			return err
		}
	}
	return nil
}

// settleUsers reads c's provisioned users (numbers in E.164) and whom the
// gate asks for the user's name.
func (s *settled) settleUsers(c *Gate) {
	s.users = make(map[string]signin.User, len(c.Users))
	s.phones = make(map[string]signin.User, len(c.Users))
	named := make(map[string]bool, len(c.Users))
	for _, u := range c.Users {
		e164, _ := phone.Parse(u.Phone, c.DefaultRegion) // checked
		s.users[u.Name] = signin.User{Name: u.Name, Phone: e164}
		s.phones[e164] = s.users[u.Name]
		named[u.Name] = true
	}
	s.identity = signin.FirstFactor{Open: c.Enrollment == EnrollmentOpen}
	if c.Identity == IdentityNone {
		s.identity = signin.LoginForm{Named: named}
	}
}

// loadStore provisions the store's module (its checks: no store opened).
func (g *gate) loadStore(ctx caddy.Context, c *Gate) error {
	// The store lives in a context of the gate's own, ended by Cleanup after
	// the gate's last writes: Caddy cleans up a config's modules in no set
	// order, and a store closed first lost the figures' and recent events'
	// last counts at a reload or a stop (TestReloadKeepsTheCounts).
	storeCtx, closeStore := caddy.NewContext(ctx)
	g.closeStore = closeStore
	mod, err := storeCtx.LoadModule(c, "StoreRaw")
	if err != nil {
		return fmt.Errorf("loading store: %v", err)
	}
	st, ok := mod.(store.Store)
	if !ok {
		return fmt.Errorf("module %T is not a smsgate store", mod)
	}
	g.store = st
	return nil
}

// openStore opens the store, checks it is the one the gate knew, and sets
// up the sessions and the keys derived from their secret.
func (g *gate) openStore(ctx caddy.Context, c *Gate, s *settled) error {
	err := store.Open(ctx, g.store)
	if err != nil {
		return err
	}
	var await time.Duration
	if g.watch, await, err = storewatch.Open(ctx, g.store, g.storeID, g.former, g.log, g.now); err != nil {
		return err
	}
	g.sessions, err = session.NewManager(ctx, session.Config{Store: g.store, Realm: c.Realm, Secret: s.signingKey, AwaitSecret: await,
		Alg: c.SigningAlg, Lifetime: time.Duration(c.SessionLifetime), Rotation: time.Duration(c.KeyRotation), Now: g.now, Coarse: g.coarse, Logger: g.logger, Uses: &g.inFlight,
		AMRs: signin.AMRBits, LoginForm: c.Identity == IdentityNone, Remember: time.Duration(c.Remember)}) // hot.earns tests them
	if err != nil {
		return err
	}
	if s.phoneKey != nil && string(s.phoneKey) == string(g.sessions.Secret()) {
		return errors.New("verify_only needs its own key, not the signing key")
	}
	return nil
}

// buildEnrollment sets up codes, devices, invites and strangers' bounds.
func (g *gate) buildEnrollment(ctx caddy.Context, c *Gate, s *settled) (*enrollment.Devices, error) {
	keys, err := session.NewDerived(g.sessions.Secret(), g.now)
	if err != nil {
		return nil, err
	}
	g.keys = keys
	var devices *enrollment.Devices
	g.strangers = (&enrollment.Strangers{IP: s.limits.StrangerIP, Net: s.limits.StrangerNet, Total: s.limits.Strangers, KnownUser: s.limits.KnownUser, Store: g.store, Now: g.now}).Shared(ctx, c.Realm, g.storeID, g.watch.Epoch().ID())
	g.challenges, devices, g.admin = enrollment.New(&enrollment.Core{Store: g.store, CodeKey: keys.Code,
		PhoneKey: s.phoneKey, Limits: s.limits, Secrets: keys.Apps, WebAuthn: g.webauthn, VerifyUser: c.Identity == IdentityNone,
		Strangers: g.strangers, Now: g.now, Announce: session.AnnounceEndBy(g.now), Logger: g.logger}, enrollment.Challenges{
		Sender:         g.chain,
		Verifier:       g.verifier,
		Templates:      s.messages,
		Policy:         s.policy,
		Site:           g.name,
		CodeLength:     c.CodeLength,
		CodeTTL:        time.Duration(c.CodeTTL),
		MaxAttempts:    c.MaxAttempts,
		ResendCooldown: time.Duration(c.ResendCooldown),
	})
	g.challenges.Checker = s.checker
	g.challenges.Words = g.words // the built-in messages in the user's language
	g.startCounting(c)
	return devices, nil
}

// buildSignIn sets up the sign-in's decisions (and session.CheckNumbers').
func (g *gate) buildSignIn(c *Gate, s *settled, devices *enrollment.Devices) {
	g.signin = &signin.Service{Identity: s.identity, Users: s.users, Phones: s.phones,
		Challenges: g.challenges, Devices: devices, Invites: g.admin, Strangers: g.strangers, Notices: g.chain,
		Site: g.name, Host: g.host, Channels: g.policy.Channels(c.Channels), CodeLength: c.CodeLength, DefaultRegion: c.DefaultRegion,
		AllowRemoveLast: c.AllowRemoveLast, Admins: c.Admins, Audit: g.log.Audit, Logger: g.logger, Now: g.now, Later: g.inFlight.Go, Revoked: session.ReadRevoked}
	g.sessions.CheckNumbers(g.signin.Gives)
	g.keys.OnRekey(func(code []byte) { g.signin.Rekey(c.Realm, code) }) // codes, and the records of numbers' hashes
}

// buildPages sets up the pages under the path prefix.
func (g *gate) buildPages(c *Gate, s *settled) {
	g.pages = pages.New(pages.Config{Realm: c.Realm, Host: g.host, LinkOrigin: g.linkOrigin, PathPrefix: c.PathPrefix,
		Channels: g.policy.Channels(c.Channels), CodeLength: c.CodeLength, Policy: g.policy,
		Remember: time.Duration(c.Remember), StepUp: time.Duration(c.StepUp), MaxAge: time.Duration(c.MaxAge), RedirectHosts: c.RedirectHosts, Admins: c.Admins, Site: g.site,
		PublicOrigin: c.PublicOrigin, PortalURL: c.PortalURL, SiteOrigin: c.SiteOrigin, CookieDomain: c.CookieDomain,
		SiteName: c.SiteName, Logo: c.Logo, Accent: c.Accent, AllowedRegions: c.AllowedRegions, DefaultRegion: c.DefaultRegion,
		Templates: s.pages, Passkeys: g.webauthn != nil,
		SignIn: g.signin, Sessions: g.sessions, Store: g.store, Flows: g.keys.Flows, Known: g.keys.Known, Sealer: g.keys.Seal,
		Words: g.words, Receipts: g.receipts, ReceiptsName: g.receiptsName, Receipt: g.counting.Receipt, Epoch: g.watch.Epoch(),
		Metrics: g.metrics, Audit: g.log.Audit, Identify: g.identify, Logger: g.logger, Now: g.now})
	if g.receipts != nil {
		g.challenges.ReceiptURL = g.pages.ReceiptURL
	}
}

// buildSite sets up the gate as the admin's tools (and its console) see it.
func (g *gate) buildSite(s *settled) {
	g.site = &admin.Site{Config: s.admin, Admin: g.admin, Store: g.store, Epoch: g.watch.Epoch(), Sessions: g.sessions, SignIn: g.signin,
		Logger: g.logger, Audit: g.log.Audit, Alarm: g.log.Alarm, Tally: g.counting.Tally, Now: g.now, Recent: g.counting.Recent}
	g.signin.RekeyTurn, g.signin.RekeyOn = g.site.RekeyTurn, g.site.RekeyOn // the records' re-keying: in the realm's settle lock, by the latest config
}

// loadProviders provisions the providers (once, before any store) into the
// failover chain, and finds the one that reports delivery, checks numbers,
// or verifies; a mistake told as the adapter does (CheckResolved).
func (g *gate) loadProviders(ctx caddy.Context, c *Gate) (providers.Checker, error) {
	mods, err := ctx.LoadModule(c, "ProvidersRaw")
	if err != nil {
		return nil, cmp.Or(providers.CheckResolved(c.ProvidersRaw, nil), fmt.Errorf("loading providers: %v", err))
	}
	g.metrics = audit.NewMetrics(ctx.GetMetricsRegistry())
	g.chain = providers.Chain{Logger: g.logger, Observe: func(provider string, channel factor.Channel, country, result string) {
		g.metrics.Sends.WithLabelValues(provider, string(channel), result).Inc()
		g.counting.Sent(provider, channel, country, result)
	}}
	var checker providers.Checker
	for i, m := range mods.([]any) {
		s := m.(providers.Sender) // checked
		name := providers.Name(m.(caddy.Module), i)
		g.chain.Senders = append(g.chain.Senders, providers.Named{Name: name, Sender: s})
		if rc, ok := m.(providers.Receipts); ok && g.receipts == nil {
			g.receipts, g.receiptsName = rc, name
		}
		if ck, ok := m.(providers.Checker); ok && checker == nil {
			checker = ck
		}
		if v, ok := m.(providers.Verifier); ok && v.Verifies() {
			g.verifier = g.chain.Verifying(v, name)
		}
	}
	return checker, nil
}

// Cleanup ends the running gate (cleanup).
func (g *Gate) Cleanup() error { return g.run.cleanup() }

// cleanup takes the gate off the smsgate app's list and stops its watch;
// once its last request in flight has ended (Caddy cleans up a config
// without waiting for them), it writes its last counts, and only then lets
// go of its store (TestReloadDuringASend). A request that reaches the gate
// after Cleanup begins nothing on the store, nor is admitted from its cache.
func (g *gate) cleanup() error {
	successors.Remove(g.key, g) // before the drain closes: a gate refusing requests is never found
	if g.app != nil {
		g.app.Unregister(g.site)
	}
	g.watch.Stop()
	g.inFlight.Close(func() {
		g.counting.Stop()
		if g.closeStore != nil {
			g.closeStore()
		}
	})
	g.sessions.LetGo() // a late request is not admitted from the cache, which no poll updates now: uncached hands it on
	return nil
}

// successors are the live gates by their configuration (handOff).
var successors handoff.Registry[*gate]

var accentColour = regexp.MustCompile(`^#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$`)

// loadApp is the config's app name, loaded on first use. A Context made
// outside a running config (caddy.NewContext in benchmarks) has none.
func loadApp(ctx caddy.Context, name string) (app any, err error) {
	defer func() {
		if recover() != nil {
			app, err = nil, errors.New("no running config")
		}
	}()
	return ctx.App(name)
}

// Validate has nothing left to check: Provision checked the config.
func (g *Gate) Validate() error { return nil }

// Interface guards
var (
	_ caddy.Provisioner           = (*Gate)(nil)
	_ caddy.Validator             = (*Gate)(nil)
	_ caddy.CleanerUpper          = (*Gate)(nil)
	_ caddyhttp.MiddlewareHandler = (*Gate)(nil)
)
