package caddymodule

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyevents"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/phone"
	"github.com/smsgate/caddy-smsgate/providers"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/signin"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/words"
)

// now is the clock of every Gate; tests replace it.
var now = time.Now

// Provision sets defaults, opens the store, loads the providers and the key.
func (g *Gate) Provision(ctx caddy.Context) error {
	g.ctx, g.logger = ctx, ctx.Logger()
	if ev, err := loadApp(ctx, "events"); err == nil {
		g.events = ev.(*caddyevents.App)
	}
	g.now = func() time.Time { return now() }
	g.setDefaults()
	if g.Realm == "" {
		return errors.New("realm is not set: set realm (in a Caddyfile, a site with a single host name sets it for you)")
	}
	g.host = g.Realm
	if g.PublicOrigin != "" {
		u, err := url.Parse(g.PublicOrigin)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Hostname() == "" || (u.Path != "" && u.Path != "/") {
			return fmt.Errorf("public_origin must be a scheme and host such as https://app.example.com, not %q", g.PublicOrigin)
		}
		g.host = strings.ToLower(u.Hostname())
	}

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

	if len(g.ProvidersRaw) == 0 {
		return errors.New("no provider: add one, e.g. `provider log` for local development")
	}
	mods, err := ctx.LoadModule(g, "ProvidersRaw")
	if err != nil {
		return fmt.Errorf("loading providers: %v", err)
	}
	g.metrics = newMetrics(ctx.GetMetricsRegistry())
	g.chain = providers.Chain{Logger: g.logger, Observe: func(provider, channel, result string) {
		g.metrics.sends.WithLabelValues(provider, channel, result).Inc()
	}}
	var checker providers.Checker
	for _, m := range mods.([]any) {
		s, ok := m.(providers.Sender)
		if !ok {
			return fmt.Errorf("module %T is not a smsgate provider", m)
		}
		name := m.(caddy.Module).CaddyModule().ID.Name() + "." + strconv.Itoa(len(g.chain.Senders)+1)
		if n, ok := m.(interface{ ProviderName() string }); ok && n.ProviderName() != "" {
			name = n.ProviderName()
		}
		for _, other := range g.chain.Senders {
			if other.Name == name {
				return fmt.Errorf("two providers are named %q: give each its own name", name)
			}
		}
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
	templates, err := enrollment.ParseTemplates(g.MessageTemplate, g.VoiceTemplate)
	if err != nil {
		return err
	}
	limits, err := g.limits()
	if err != nil {
		return err
	}
	if g.pages, err = loadPages(g.TemplatesDir); err != nil {
		return err
	}
	if g.words, err = words.Load(g.MessagesDir); err != nil {
		return err
	}
	if g.Accent != "" && !strings.HasPrefix(g.Accent, "#") {
		g.Accent = "#" + g.Accent // in a Caddyfile, # starts a comment: accept 2563eb too
	}
	if g.Accent != "" && !accentColour.MatchString(g.Accent) {
		return fmt.Errorf("accent must be a colour like #2563eb, not %q", g.Accent)
	}
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
		e164, err := phone.Parse(u.Phone, g.DefaultRegion)
		if err != nil {
			return fmt.Errorf("user %q: phone %q: %v", u.Name, u.Phone, err)
		}
		g.Users[i].Phone = e164
		users[u.Name] = signin.User{Name: u.Name, Phone: e164}
		phones[e164] = users[u.Name]
		named[u.Name] = true
	}
	var identity signin.Identity = signin.FirstFactor{Open: g.Enrollment == EnrollmentOpen}
	if g.Identity == IdentityNone {
		identity = signin.LoginForm{Named: named}
	}

	var configured []byte
	if g.SigningKey != "" {
		if configured, err = secretValue("signing_key", g.SigningKey); err != nil {
			return err
		}
	}
	await, err := g.openWatch(ctx)
	if err != nil {
		return err
	}
	g.sessions, err = session.NewManager(ctx, session.Config{Store: g.store, Realm: g.Realm, Secret: configured, AwaitSecret: await, Alg: g.SigningAlg,
		Lifetime: time.Duration(g.SessionLifetime), Rotation: time.Duration(g.KeyRotation), Now: g.now, Logger: g.logger})
	if err != nil {
		return err
	}
	if g.AssertionHeader != "" && !g.sessions.Asymmetric() {
		return errors.New("assertion_header needs signing_alg EdDSA, so that upstreams can verify it with public keys")
	}
	secret := g.sessions.Secret()
	var phoneKey []byte
	if g.VerifyOnlyKey != "" {
		if phoneKey, err = secretValue("verify_only key", g.VerifyOnlyKey); err != nil {
			return err
		}
		if string(phoneKey) == string(secret) {
			return errors.New("verify_only needs its own key, not the signing key")
		}
	}
	appSecrets, err := g.deriveKeys(secret)
	if err != nil {
		return err
	}
	var devices *enrollment.Devices
	if g.webauthn, err = g.newWebAuthn(); err != nil {
		return err
	}
	if err := g.settleFactors(); err != nil {
		return err
	}
	g.challenges, devices, g.admin = enrollment.New(&enrollment.Core{Store: g.store, CodeKey: session.Derive(secret, "code"),
		PhoneKey: phoneKey, Limits: limits, Secrets: appSecrets, WebAuthn: g.webauthn, Now: g.now}, enrollment.Challenges{
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

// limitNames are the send limits, each with its place in enrollment.Limits.
var limitNames = map[string]func(*enrollment.Limits) *enrollment.Rate{
	"user":            func(l *enrollment.Limits) *enrollment.Rate { return &l.User },
	"number":          func(l *enrollment.Limits) *enrollment.Rate { return &l.Number },
	"ip":              func(l *enrollment.Limits) *enrollment.Rate { return &l.IP },
	"country":         func(l *enrollment.Limits) *enrollment.Rate { return &l.Country },
	"voice":           func(l *enrollment.Limits) *enrollment.Rate { return &l.Voice },
	"global_enrolled": func(l *enrollment.Limits) *enrollment.Rate { return &l.GlobalEnrolled },
	"global_new":      func(l *enrollment.Limits) *enrollment.Rate { return &l.GlobalNew },
}

const limitList = "user, number, ip, country, voice, global_enrolled or global_new"

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
			return l, fmt.Errorf("unknown limit %q: use %s", name, limitList)
		}
		r := place(&l)
		if lim.Count < 0 || (lim.Count > 0 && lim.Window <= 0) {
			return l, fmt.Errorf("limit %s: a count needs a positive window", name)
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
		return l, fmt.Errorf("max_failures must be from 1 to 100 (NIST SP 800-63B), not %d", l.MaxFailures)
	}
	if l.LockAfter < 1 || l.Lockout <= 0 {
		return l, errors.New("lockout_after and lockout must be positive")
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
	g.Realm = strings.ToLower(g.Realm)
	g.PublicOrigin = strings.TrimSuffix(g.PublicOrigin, "/")
	g.PortalURL = strings.TrimSuffix(g.PortalURL, "/")
	g.CookieDomain = strings.TrimPrefix(strings.ToLower(g.CookieDomain), ".")
	g.DefaultRegion = strings.ToUpper(g.DefaultRegion)
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

// Validate checks the configuration.
func (g *Gate) Validate() error {
	switch g.Enrollment {
	case EnrollmentOpen, EnrollmentClosed:
	default:
		return fmt.Errorf("enrollment must be %q or %q, not %q", EnrollmentOpen, EnrollmentClosed, g.Enrollment)
	}
	if g.Identity == IdentityNone && g.Enrollment == EnrollmentOpen {
		return errors.New("enrollment open needs a first factor: with identity none, anyone could enroll as anyone")
	}
	if g.Identity != IdentityNone && !strings.Contains(g.Identity, "{") {
		return fmt.Errorf("identity must be a placeholder such as %s, or none; %q would name every visitor the same", DefaultIdentity, g.Identity)
	}
	if g.CodeLength < MinCodeLength || g.CodeLength > MaxCodeLength {
		return fmt.Errorf("code_length must be from %d to %d, not %d", MinCodeLength, MaxCodeLength, g.CodeLength)
	}
	if d := time.Duration(g.CodeTTL); d < MinCodeTTL || d > MaxCodeTTL {
		return fmt.Errorf("code_ttl must be from %s to %s, not %s", MinCodeTTL, MaxCodeTTL, d)
	}
	if g.MaxAttempts < 1 || g.MaxAttempts > MaxMaxAttempts {
		return fmt.Errorf("max_attempts must be from 1 to %d, not %d", MaxMaxAttempts, g.MaxAttempts)
	}
	if g.SessionLifetime <= 0 {
		return errors.New("session_lifetime must be positive")
	}
	if g.ResendCooldown < 0 {
		return errors.New("resend_cooldown must not be negative")
	}
	if !validPrefix(g.PathPrefix) {
		return fmt.Errorf("path_prefix must begin and end with '/', like %s", DefaultPathPrefix)
	}
	for _, ch := range g.Channels {
		if ch != providers.SMS && ch != providers.Voice {
			return fmt.Errorf("unknown channel %q: use sms or voice", ch)
		}
		supported := false
		for _, s := range g.chain.Senders {
			supported = supported || providers.Supports(s.Sender, ch)
		}
		if !supported {
			return fmt.Errorf("channel %s: no provider delivers on it (for Twilio, add `voice`)", ch)
		}
	}
	if g.verifier != nil && len(g.chain.Senders) > 1 {
		return errors.New("a Verify provider makes and checks its own codes, so it cannot fail over to other providers: configure it alone")
	}
	seen := make(map[string]bool)
	for _, u := range g.Users {
		if u.Name == "" {
			return errors.New("a provisioned user has no name")
		}
		if seen[u.Name] {
			return fmt.Errorf("user %q is provisioned twice", u.Name)
		}
		seen[u.Name] = true
	}
	return nil
}

// Interface guards
var (
	_ caddy.Provisioner           = (*Gate)(nil)
	_ caddy.Validator             = (*Gate)(nil)
	_ caddy.CleanerUpper          = (*Gate)(nil)
	_ caddyhttp.MiddlewareHandler = (*Gate)(nil)
)
