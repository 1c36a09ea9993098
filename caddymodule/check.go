package caddymodule

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/go-webauthn/webauthn/webauthn"
	"golang.org/x/net/publicsuffix"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/internal/localhost"
	"github.com/smsgate/caddy-smsgate/internal/textsafe"
	"github.com/smsgate/caddy-smsgate/phone"
	"github.com/smsgate/caddy-smsgate/providers"
	"github.com/smsgate/caddy-smsgate/signin"
	"github.com/smsgate/caddy-smsgate/words"
)

// What a gate's config must be, checked before anything is opened:
// Provision runs check first, so that `caddy validate` on a bad config
// creates no database folder, and a Caddyfile runs it when it is adapted,
// so that each mistake names its line.

// optionError is a mistake in one option; key names it the way
// UnmarshalCaddyfile recorded its line ("code_length", "user alice",
// "provider 2").
type optionError struct {
	key string
	err error
}

func (e *optionError) Error() string { return e.err.Error() }
func (e *optionError) Unwrap() error { return e.err }

func optionErrf(key, format string, args ...any) error {
	return &optionError{key, fmt.Errorf(format, args...)}
}

// check validates the config, its defaults set. It opens nothing, reads no
// file and resolves no environment variable, so that it can also run when
// a Caddyfile is adapted; what it works out (the host, the passkeys'
// origin, the factors) is kept.
func (g *Gate) check() error {
	if g.Realm == "" {
		return optionErrf("realm", "realm is not set: set realm (in a Caddyfile, a site with a single host name sets it for you)")
	}
	g.host = g.Realm
	if g.PublicOrigin != "" {
		u, err := url.Parse(g.PublicOrigin)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Hostname() == "" || (u.Path != "" && u.Path != "/") {
			return optionErrf("public_origin", "public_origin must be a scheme and host such as https://app.example.com, not %q", g.PublicOrigin)
		}
		g.host = strings.ToLower(u.Hostname())
	}
	if err := g.checkIdentity(); err != nil {
		return err
	}
	if err := g.checkRanges(); err != nil {
		return err
	}
	if err := g.checkUsers(); err != nil {
		return err
	}
	if _, err := g.limits(); err != nil {
		return err
	}
	if g.Accent != "" && !accentColour.MatchString(g.Accent) {
		return optionErrf("accent", "accent must be a colour like #2563eb, not %q", g.Accent)
	}
	policy := &phone.Policy{AllowedRegions: g.AllowedRegions, ChannelRegions: g.ChannelRegions, AllowPrefixes: g.AllowPrefixes, DenyPrefixes: g.DenyPrefixes, Types: g.NumberTypes}
	if err := policy.Validate(); err != nil {
		return optionErrf("allowed_regions", "%v", err)
	}
	if g.AssertionHeader != "" && g.SigningAlg != "EdDSA" {
		return optionErrf("assertion_header", "assertion_header needs signing_alg EdDSA, so that upstreams can verify it with public keys")
	}
	if err := g.checkCookieDomain(); err != nil {
		return err
	}
	if err := g.checkProviders(); err != nil {
		return err
	}
	if err := g.checkCounting(); err != nil {
		return err
	}
	if err := g.checkAdmins(); err != nil {
		return err
	}
	var err error
	if g.webauthn, err = g.newWebAuthn(); err != nil {
		return optionErrf("public_origin", "%v", err)
	}
	if err := g.settleFactors(); err != nil {
		return optionErrf("factors", "%v", err)
	}
	// The built-in languages here; an admin's own (messages_dir) once
	// Provision has read them.
	_, err = g.templates(words.English)
	return err
}

// checkIdentity refuses an identity a client could choose, and enrollment
// open without one.
func (g *Gate) checkIdentity() error {
	switch g.Enrollment {
	case EnrollmentOpen, EnrollmentClosed:
	default:
		return optionErrf("enrollment", "enrollment must be %q or %q, not %q", EnrollmentOpen, EnrollmentClosed, g.Enrollment)
	}
	if g.Identity == IdentityNone {
		if g.Enrollment == EnrollmentOpen {
			return optionErrf("enrollment", "enrollment open needs a first factor: with identity none, anyone could enroll as anyone")
		}
		return nil
	}
	if !strings.Contains(g.Identity, "{") {
		return optionErrf("identity", "identity must be a placeholder such as %s, or none; %q would name every visitor the same", DefaultIdentity, g.Identity)
	}
	if p := clientChosen(g.Identity); p != "" {
		return optionErrf("identity", "identity %s: {%s} is whatever the client sends, so anyone could be anyone: use a first factor's placeholder such as %s, a header a forward_auth sets, or none", g.Identity, p, DefaultIdentity)
	}
	g.trusted = trustedHeaders(g.Identity, g.IdentityFrom)
	return nil
}

// checkRanges checks the numbers and the path prefix.
func (g *Gate) checkRanges() error {
	switch {
	case g.CodeLength < MinCodeLength || g.CodeLength > MaxCodeLength:
		return optionErrf("code_length", "code_length must be from %d to %d, not %d", MinCodeLength, MaxCodeLength, g.CodeLength)
	case time.Duration(g.CodeTTL) < MinCodeTTL || time.Duration(g.CodeTTL) > MaxCodeTTL:
		return optionErrf("code_ttl", "code_ttl must be from %s to %s, not %s", MinCodeTTL, MaxCodeTTL, time.Duration(g.CodeTTL))
	case g.MaxAttempts < 1 || g.MaxAttempts > MaxMaxAttempts:
		return optionErrf("max_attempts", "max_attempts must be from 1 to %d, not %d", MaxMaxAttempts, g.MaxAttempts)
	case g.SessionLifetime <= 0:
		return optionErrf("session_lifetime", "session_lifetime must be positive")
	case g.ResendCooldown < 0:
		return optionErrf("resend_cooldown", "resend_cooldown must not be negative")
	case !validPrefix(g.PathPrefix):
		return optionErrf("path_prefix", "path_prefix must begin and end with '/', like %s", DefaultPathPrefix)
	}
	if g.SigningKey != "" && !strings.Contains(g.SigningKey, "{") && len(g.SigningKey) < 32 {
		return optionErrf("signing_key", "signing_key is %d bytes; it must be at least 32", len(g.SigningKey))
	}
	return nil
}

// checkUsers checks the provisioned users: named once each, with numbers
// that parse, and names that show as they are.
func (g *Gate) checkUsers() error {
	seen := make(map[string]bool)
	for _, u := range g.Users {
		key := "user " + u.Name
		switch {
		case u.Name == "":
			return optionErrf(key, "a provisioned user has no name")
		case seen[u.Name]:
			return optionErrf(key, "user %q is provisioned twice", u.Name)
		case !textsafe.Clean(u.Name) || len(u.Name) > MaxIdentity:
			return optionErrf(key, "user %q: a name must be at most %d bytes, without control or direction characters", textsafe.Escape(u.Name), MaxIdentity)
		}
		seen[u.Name] = true
		if _, err := phone.Parse(u.Phone, g.DefaultRegion); err != nil {
			return optionErrf(key, "user %q: phone %q: %v", u.Name, u.Phone, err)
		}
	}
	return nil
}

// checkAdmins checks the console's admins: names a first factor could
// give, each once.
func (g *Gate) checkAdmins() error {
	seen := make(map[string]bool)
	for _, name := range g.Admins {
		switch {
		case name == "" || !textsafe.Clean(name) || len(name) > MaxIdentity:
			return optionErrf("admins", "%q: a name must be at most %d bytes, without control or direction characters", textsafe.Escape(name), MaxIdentity)
		case seen[name]:
			return optionErrf("admins", "%q is named twice", name)
		}
		seen[name] = true
	}
	return nil
}

// checkCookieDomain refuses a cookie_domain browsers would not honour for
// this site (the session cookie would never come back: no one could sign
// in): a public suffix, or a domain the site is not under.
func (g *Gate) checkCookieDomain() error {
	d := g.CookieDomain
	if d == "" {
		return nil
	}
	if strings.ContainsAny(d, ":/ ") {
		return optionErrf("cookie_domain", "cookie_domain must be a domain such as example.com, not %q", d)
	}
	if ps, _ := publicsuffix.PublicSuffix(d); ps == d && !localhost.Is(d) {
		return optionErrf("cookie_domain", "cookie_domain %s is a public suffix: browsers refuse a cookie for all of it; name your own domain", d)
	}
	for _, origin := range []string{g.PublicOrigin, g.SiteOrigin} {
		u, err := url.Parse(origin)
		if origin == "" || err != nil || u.Hostname() == "" {
			continue
		}
		if host := strings.ToLower(u.Hostname()); host != d && !strings.HasSuffix(host, "."+d) {
			return optionErrf("cookie_domain", "cookie_domain %s does not cover this site (%s): browsers would drop the session cookie, and no one could sign in", d, host)
		}
		break
	}
	return nil
}

// checkProviders checks what the providers' config says, without
// provisioning them: one at least, each with its own name, a provider for
// every channel, a Verify provider alone, and no log provider for a site
// that is not localhost (every send would fail, and count).
func (g *Gate) checkProviders() error {
	mods, err := g.providerModules()
	if err != nil {
		return err
	}
	if len(mods) == 0 {
		return optionErrf("", "no provider: add one, e.g. `provider log` for local development")
	}
	names := map[string]bool{}
	for i, m := range mods {
		key := "provider " + strconv.Itoa(i+1)
		name := providerName(m, i)
		if names[name] {
			return optionErrf(key, "two providers are named %q: give each its own name", name)
		}
		names[name] = true
		if v, ok := m.(providers.Verifier); ok && v.Verifies() {
			if len(mods) > 1 {
				return optionErrf(key, "a Verify provider makes and checks its own codes, so it cannot fail over to other providers: configure it alone")
			}
			g.verifies = true
		}
		if l, ok := m.(*providers.Log); ok && !l.AllowPublic && !localhost.Is(g.host) {
			return optionErrf(key, "provider log writes codes to Caddy's log, so it sends only for localhost sites, and this site is %s: every send would fail. Use a real provider (or `provider log { allow_public }` to test a deployment)", g.host)
		}
	}
	for _, ch := range g.Channels {
		if ch != providers.SMS && ch != providers.Voice {
			return optionErrf("channels", "unknown channel %q: use sms or voice", ch)
		}
		supported := false
		for _, m := range mods {
			s, ok := m.(providers.Sender)
			supported = supported || (ok && providers.Supports(s, ch))
		}
		if !supported {
			return optionErrf("channels", "channel %s: no provider delivers on it (for Twilio, add `voice`)", ch)
		}
	}
	return nil
}

// providerModules decodes the providers' config into their modules,
// unprovisioned: only for what the config says.
func (g *Gate) providerModules() ([]caddy.Module, error) {
	var mods []caddy.Module
	for i, raw := range g.ProvidersRaw {
		key := "provider " + strconv.Itoa(i+1)
		var head struct {
			Provider string `json:"provider"`
		}
		if err := json.Unmarshal(raw, &head); err != nil {
			return nil, optionErrf(key, "provider: %v", err)
		}
		info, err := caddy.GetModule("smsgate.providers." + head.Provider)
		if err != nil {
			return nil, optionErrf(key, "provider %q: %v", head.Provider, err)
		}
		m := info.New()
		if err := json.Unmarshal(raw, m); err != nil {
			return nil, optionErrf(key, "provider %s: %v", head.Provider, err)
		}
		if _, ok := m.(providers.Sender); !ok {
			return nil, optionErrf(key, "module %T is not a smsgate provider", m)
		}
		mods = append(mods, m)
	}
	return mods, nil
}

// providerName is the i-th provider's name: its own, or its module's and
// place in the chain (webhook.2).
func providerName(m caddy.Module, i int) string {
	if n, ok := m.(interface{ ProviderName() string }); ok && n.ProviderName() != "" {
		return n.ProviderName()
	}
	return m.CaddyModule().ID.Name() + "." + strconv.Itoa(i+1)
}

// templates parses the message templates and checks that every message
// fits its caps, in every language of cat (a Verify provider writes its
// own: only parsed then).
func (g *Gate) templates(cat *words.Catalogue) (*enrollment.Templates, error) {
	t, err := enrollment.ParseTemplates(g.MessageTemplate, g.VoiceTemplate)
	if err == nil && !g.verifies {
		err = t.Fit(cat, cmp.Or(g.SiteName, g.host), g.host, g.CodeLength)
	}
	if err != nil {
		key := "message_template"
		if strings.HasPrefix(err.Error(), "voice_template") {
			key = "voice_template"
		}
		return nil, &optionError{key, err}
	}
	return t, nil
}

// newWebAuthn binds passkeys to the site's origin: public_origin, else the
// site's address; the RP ID is cookie_domain or that origin's host. No
// origin (a JSON config without one): no passkeys.
func (g *Gate) newWebAuthn() (*webauthn.WebAuthn, error) {
	origin := g.PublicOrigin
	if origin == "" {
		origin = strings.TrimSuffix(g.SiteOrigin, "/")
	}
	if origin == "" {
		return nil, nil
	}
	u, err := url.Parse(origin)
	if err != nil || u.Hostname() == "" {
		return nil, fmt.Errorf("passkeys: %q is not an origin", origin)
	}
	rpID := u.Hostname()
	if g.CookieDomain != "" {
		rpID = strings.TrimPrefix(g.CookieDomain, ".")
	}
	if net.ParseIP(rpID) != nil {
		return nil, nil // WebAuthn binds passkeys to a domain: a site on an address has none
	}
	site := g.SiteName
	if site == "" {
		site = rpID
	}
	return webauthn.New(&webauthn.Config{RPID: rpID, RPDisplayName: site, RPOrigins: []string{origin},
		Timeouts: webauthn.TimeoutsConfig{Login: webauthn.TimeoutConfig{Enforce: true, Timeout: 2 * time.Minute},
			Registration: webauthn.TimeoutConfig{Enforce: true, Timeout: 2 * time.Minute}}})
}

// MaxIdentity is the longest identity, in bytes, the gate signs in.
const MaxIdentity = signin.MaxIdentity

// secrets resolves the configured secrets (often `{env.X}`), which must
// be at least 32 bytes each, and different.
func (g *Gate) secrets() (signing, phoneKey []byte, err error) {
	if g.SigningKey != "" {
		if signing, err = secretValue("signing_key", g.SigningKey); err != nil {
			return nil, nil, err
		}
	}
	if g.VerifyOnlyKey != "" {
		if phoneKey, err = secretValue("verify_only key", g.VerifyOnlyKey); err != nil {
			return nil, nil, err
		}
		if string(phoneKey) == string(signing) {
			return nil, nil, errors.New("verify_only needs its own key, not the signing key")
		}
	}
	return signing, phoneKey, nil
}
