package caddymodule

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyevents"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/internal/clock"
	"github.com/smsgate/caddy-smsgate/phone"
	"github.com/smsgate/caddy-smsgate/providers"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/signin"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/words"
)

// now is the clock of a Gate whose Provision context carries none (see
// clock.From; Caddy's own contexts never do); tests of the in-process
// Caddy replace it. A test that provisions its own gate gives it a clock
// of its own with clock.With.
var now = time.Now

// Provision sets defaults and checks the config before it opens anything
// (check.go), then loads the providers, and only then opens the store and
// the keys: a config that cannot run creates no database folder.
func (g *Gate) Provision(ctx caddy.Context) error {
	g.ctx, g.logger = ctx, ctx.Logger()
	if ev, err := loadApp(ctx, "events"); err == nil {
		g.events = ev.(*caddyevents.App)
	}
	g.now = clock.From(ctx, func() time.Time { return now() })
	g.setDefaults()
	if err := g.check(); err != nil {
		return err
	}
	configured, phoneKey, err := g.secrets()
	if err != nil {
		return err
	}
	if g.pages, err = loadPages(g.TemplatesDir); err != nil {
		return err
	}
	if g.words, err = words.Load(g.MessagesDir); err != nil {
		return &optionError{"messages_dir", err}
	}
	templates, err := g.templates(g.words)
	if err != nil {
		return err
	}
	limits, _ := g.limits() // checked
	g.csp = g.contentSecurityPolicy()
	g.example = phone.Example(append(g.AllowedRegions, g.DefaultRegion, "US")...)
	policy := &phone.Policy{AllowedRegions: g.AllowedRegions, ChannelRegions: g.ChannelRegions, AllowPrefixes: g.AllowPrefixes, DenyPrefixes: g.DenyPrefixes, Types: g.NumberTypes}
	if err := policy.Validate(); err != nil {
		return err
	}
	users := make(map[string]signin.User, len(g.Users))
	phones := make(map[string]signin.User, len(g.Users))
	named := make(map[string]bool, len(g.Users))
	for i, u := range g.Users {
		e164, _ := phone.Parse(u.Phone, g.DefaultRegion) // checked
		g.Users[i].Phone = e164
		users[u.Name] = signin.User{Name: u.Name, Phone: e164}
		phones[e164] = users[u.Name]
		named[u.Name] = true
	}
	var identity signin.Identity = signin.FirstFactor{Open: g.Enrollment == EnrollmentOpen}
	if g.Identity == IdentityNone {
		identity = signin.LoginForm{Named: named}
	}
	if g.CookieDomain != "" {
		g.logger.Warn("cookie_domain hands the session cookie to every host under it: any of them that is not yours, or that logs request headers, can replay it as the user. Use it only for a domain whose every host you run",
			zap.String("realm", g.Realm), zap.String("cookie_domain", g.CookieDomain))
	}
	checker, err := g.loadProviders(ctx)
	if err != nil {
		return err
	}

	// The config is good: only now the store.
	if g.StoreRaw == nil {
		g.StoreRaw = json.RawMessage(`{"module":"badger"}`)
	}
	g.storeID = storeIdentity(g.StoreRaw) // LoadModule forgets the raw config
	mod, err := ctx.LoadModule(g, "StoreRaw")
	if err != nil {
		return fmt.Errorf("loading store: %v", err)
	}
	st, ok := mod.(store.Store)
	if !ok {
		return fmt.Errorf("module %T is not a smsgate store", mod)
	}
	g.store = st
	await, err := g.openWatch(ctx)
	if err != nil {
		return err
	}
	g.sessions, err = session.NewManager(ctx, session.Config{Store: g.store, Realm: g.Realm, Secret: configured, AwaitSecret: await,
		Alg: g.SigningAlg, Lifetime: time.Duration(g.SessionLifetime), Rotation: time.Duration(g.KeyRotation), Now: g.now, Logger: g.logger})
	if err != nil {
		return err
	}
	secret := g.sessions.Secret()
	if phoneKey != nil && string(phoneKey) == string(secret) {
		return errors.New("verify_only needs its own key, not the signing key")
	}
	appSecrets, err := g.deriveKeys(secret)
	if err != nil {
		return err
	}
	var devices *enrollment.Devices
	g.strangers = &enrollment.Strangers{IP: limits.StrangerIP, Net: limits.StrangerNet, Total: limits.Strangers, Store: g.store, Now: g.now}
	g.challenges, devices, g.admin = enrollment.New(&enrollment.Core{Store: g.store, CodeKey: session.Derive(secret, "code"),
		PhoneKey: phoneKey, Limits: limits, Secrets: appSecrets, WebAuthn: g.webauthn, VerifyUser: g.Identity == IdentityNone,
		Strangers: g.strangers, Now: g.now}, enrollment.Challenges{
		Sender:         g.chain,
		Verifier:       g.verifier,
		Templates:      templates,
		Policy:         policy,
		Site:           g.SiteName,
		CodeLength:     g.CodeLength,
		CodeTTL:        time.Duration(g.CodeTTL),
		MaxAttempts:    g.MaxAttempts,
		ResendCooldown: time.Duration(g.ResendCooldown),
	})
	if g.receipts != nil {
		g.challenges.ReceiptURL = g.receiptURL
	}
	g.challenges.Checker = checker
	g.challenges.Words = g.words // the built-in messages in the user's language
	site := g.SiteName
	if site == "" {
		site = g.host
	}
	g.signin = &signin.Service{Identity: identity, Users: users, Phones: phones,
		Challenges: g.challenges, Devices: devices, Invites: g.admin, Notices: g.chain,
		Site: site, Host: g.host, Channels: g.Channels, CodeLength: g.CodeLength, DefaultRegion: g.DefaultRegion,
		AllowRemoveLast: g.AllowRemoveLast, Audit: g.audit, Logger: g.logger, Now: g.now}
	if g.app, err = appOf(ctx); err == nil {
		g.app.register(g)
	}
	g.startWatch()
	return nil
}

// loadProviders provisions the providers into the failover chain, and
// finds the one that reports delivery, checks numbers, or verifies.
func (g *Gate) loadProviders(ctx caddy.Context) (providers.Checker, error) {
	mods, err := ctx.LoadModule(g, "ProvidersRaw")
	if err != nil {
		return nil, fmt.Errorf("loading providers: %v", err)
	}
	g.metrics = newMetrics(ctx.GetMetricsRegistry())
	g.chain = providers.Chain{Logger: g.logger, Observe: func(provider, channel, result string) {
		g.metrics.sends.WithLabelValues(provider, channel, result).Inc()
	}}
	var checker providers.Checker
	for i, m := range mods.([]any) {
		s := m.(providers.Sender) // checked
		name := providerName(m.(caddy.Module), i)
		g.chain.Senders = append(g.chain.Senders, providers.Named{Name: name, Sender: s})
		if rc, ok := m.(providers.Receipts); ok && g.receipts == nil {
			g.receipts, g.receiptsName = rc, name
		}
		if ck, ok := m.(providers.Checker); ok && checker == nil {
			checker = ck
		}
		if v, ok := m.(providers.Verifier); ok && v.Verifies() {
			g.verifier = v
		}
	}
	return checker, nil
}

// limitNames are the send limits, each with its place in enrollment.Limits.
var limitNames = map[string]func(*enrollment.Limits) *enrollment.Rate{
	"user":            func(l *enrollment.Limits) *enrollment.Rate { return &l.User },
	"number":          func(l *enrollment.Limits) *enrollment.Rate { return &l.Number },
	"ip":              func(l *enrollment.Limits) *enrollment.Rate { return &l.IP },
	"country":         func(l *enrollment.Limits) *enrollment.Rate { return &l.Country },
	"voice":           func(l *enrollment.Limits) *enrollment.Rate { return &l.Voice },
	"global_enrolled": func(l *enrollment.Limits) *enrollment.Rate { return &l.GlobalEnrolled },
	"global_new":      func(l *enrollment.Limits) *enrollment.Rate { return &l.GlobalNew },
	"guesses":         func(l *enrollment.Limits) *enrollment.Rate { return &l.Guesses },
	"stranger_ip":     func(l *enrollment.Limits) *enrollment.Rate { return &l.StrangerIP },
	"stranger_net":    func(l *enrollment.Limits) *enrollment.Rate { return &l.StrangerNet },
	"strangers":       func(l *enrollment.Limits) *enrollment.Rate { return &l.Strangers },
}

const limitList = "user, number, ip, country, voice, global_enrolled, global_new, guesses, stranger_ip, stranger_net or strangers"

// validPrefix reports whether p can be the gate's path prefix.
func validPrefix(p string) bool {
	return strings.HasPrefix(p, "/") && strings.HasSuffix(p, "/") && len(p) >= 3
}

// limits merges the configured limits into the defaults.
func (g *Gate) limits() (enrollment.Limits, error) {
	l := enrollment.DefaultLimits
	for name, lim := range g.Limits {
		place, ok := limitNames[name]
		if !ok {
			return l, optionErrf("limit "+name, "unknown limit %q: use %s", name, limitList)
		}
		r := place(&l)
		if lim.Count < 0 || (lim.Count > 0 && lim.Window <= 0) {
			return l, optionErrf("limit "+name, "limit %s: a count needs a positive window", name)
		}
		*r = enrollment.Rate{Count: lim.Count, Window: time.Duration(lim.Window)}
	}
	if g.LockoutAfter != 0 {
		l.LockAfter = g.LockoutAfter
	}
	if g.Lockout != 0 {
		l.Lockout = time.Duration(g.Lockout)
	}
	if g.MaxFailures != 0 {
		l.MaxFailures = g.MaxFailures
	}
	if l.MaxFailures < 1 || l.MaxFailures > 100 {
		return l, optionErrf("max_failures", "max_failures must be from 1 to 100 (NIST SP 800-63B), not %d", l.MaxFailures)
	}
	if l.LockAfter < 1 || l.Lockout <= 0 {
		return l, optionErrf("lockout", "lockout_after and lockout must be positive")
	}
	if err := l.CheckGuesses(); err != nil {
		return l, &optionError{"limit guesses", err}
	}
	return l, nil
}

func (g *Gate) setDefaults() {
	if g.Identity == "" {
		g.Identity = DefaultIdentity
	}
	if g.Enrollment == "" {
		g.Enrollment = EnrollmentOpen
		if g.Identity == IdentityNone {
			g.Enrollment = EnrollmentClosed
		}
	}
	if g.PathPrefix == "" {
		g.PathPrefix = DefaultPathPrefix
	}
	if g.SessionLifetime == 0 {
		g.SessionLifetime = caddy.Duration(DefaultSessionLifetime)
	}
	if g.CodeLength == 0 {
		g.CodeLength = DefaultCodeLength
	}
	if g.CodeTTL == 0 {
		g.CodeTTL = caddy.Duration(DefaultCodeTTL)
	}
	if g.MaxAttempts == 0 {
		g.MaxAttempts = DefaultMaxAttempts
	}
	if g.StepUp == 0 {
		g.StepUp = caddy.Duration(DefaultStepUp)
	}
	if g.SigningAlg == "" {
		g.SigningAlg = "HS256"
	}
	if len(g.Channels) == 0 {
		g.Channels = []string{providers.SMS}
	}
	if g.ResendCooldown == 0 {
		g.ResendCooldown = caddy.Duration(DefaultResendCooldown)
	}
	if g.Remember == 0 && !g.RememberOff {
		g.Remember = caddy.Duration(DefaultRemember)
	}
	g.Realm = strings.ToLower(g.Realm)
	g.PublicOrigin = strings.TrimSuffix(g.PublicOrigin, "/")
	g.PortalURL = strings.TrimSuffix(g.PortalURL, "/")
	g.CookieDomain = strings.TrimPrefix(strings.ToLower(g.CookieDomain), ".")
	g.DefaultRegion = strings.ToUpper(g.DefaultRegion)
	if g.Accent != "" && !strings.HasPrefix(g.Accent, "#") {
		g.Accent = "#" + g.Accent // in a Caddyfile, # starts a comment: accept 2563eb too
	}
}

// Cleanup takes the gate off the smsgate app's list and stops its watch.
func (g *Gate) Cleanup() error {
	if g.app != nil {
		g.app.unregister(g)
	}
	if g.watch != nil && g.watch.stop != nil {
		g.watch.stop()
	}
	return nil
}

var accentColour = regexp.MustCompile(`^#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$`)

// secretValue resolves a configured secret (often `{env.X}`), which must
// be at least 32 bytes.
func secretValue(name, value string) ([]byte, error) {
	key := caddy.NewReplacer().ReplaceAll(value, "")
	if key == "" {
		return nil, fmt.Errorf("%s is empty: is its environment variable set?", name)
	}
	if len(key) < 32 {
		return nil, fmt.Errorf("%s is %d bytes; it must be at least 32", name, len(key))
	}
	return []byte(key), nil
}

// Validate has nothing left to check: Provision checked the config before
// it opened anything (Caddy calls Validate after Provision, when the store
// would already be open).
func (g *Gate) Validate() error { return nil }

// Interface guards
var (
	_ caddy.Provisioner           = (*Gate)(nil)
	_ caddy.Validator             = (*Gate)(nil)
	_ caddy.CleanerUpper          = (*Gate)(nil)
	_ caddyhttp.MiddlewareHandler = (*Gate)(nil)
)
