package caddymodule

import (
	"cmp"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/internal/cfutil"
	"github.com/smsgate/caddy-smsgate/pages"
	"github.com/smsgate/caddy-smsgate/phone"
	"github.com/smsgate/caddy-smsgate/providers"
	"github.com/smsgate/caddy-smsgate/signin"
	"github.com/smsgate/caddy-smsgate/siteblock"
	"github.com/smsgate/caddy-smsgate/words"
)

// What a gate's config must be, checked before anything is opened:
// Provision runs check first, so that `caddy validate` on a bad config
// creates no database folder, and a Caddyfile runs it when it is adapted,
// so that each mistake names its line.

// check validates the config c, its defaults set. It opens nothing, reads
// no file and resolves no environment variable, so that it can also run
// when a Caddyfile is adapted; what it works out of c (the host, the
// passkeys' origin, the factors) is the running gate's, g.
func (g *gate) check(c *Gate) error {
	if c.Realm == "" {
		return cfutil.OptionErrf("realm", "realm is not set: set realm (in a Caddyfile, a site with a single host name sets it for you)")
	}
	g.host, g.name = cfutil.ASCIIHost(c.Realm), cmp.Or(c.SiteName, c.Realm) // as browsers send it, as people write it
	for _, o := range [][2]string{{"public_origin", c.PublicOrigin}, {"portal_url", c.PortalURL}} {
		if err := cfutil.BrowserURL(o[0], o[1], o[0] == "portal_url"); err != nil { // a portal's may have a path
			return err
		}
	}
	if u, _ := url.Parse(c.PublicOrigin); c.PublicOrigin != "" {
		g.host = strings.ToLower(u.Hostname())
		g.name = cmp.Or(c.SiteName, cfutil.UnicodeHost(g.host))
	}
	if c.DefaultRegion != "" && !phone.KnownRegion(c.DefaultRegion) {
		return cfutil.OptionErrf("default_region", "default_region %q is not a region code such as US or GB", c.DefaultRegion)
	}
	if err := g.checkIdentity(c); err != nil {
		return err
	}
	if err := siteblock.CheckAuthHeaders(c.AuthHeaders, c.AssertionHeader != ""); err != nil {
		return err
	}
	if err := c.checkRanges(); err != nil {
		return err
	}
	if err := c.numberPolicy().Validate(); err != nil {
		pe := &phone.PolicyError{Option: "allowed_regions"} // unless the mistake names its option
		errors.As(err, &pe)
		return &cfutil.OptionError{Key: pe.Option, Err: err}
	}
	if _, err := c.limits(); err != nil {
		return err
	}
	if c.Accent != "" && !accentColour.MatchString(c.Accent) {
		return cfutil.OptionErrf("accent", "accent must be a colour like #2563eb, not %q", c.Accent)
	}
	if err := pages.CheckLogo(c.Logo, c.PublicOrigin, c.SiteOrigin); err != nil {
		return &cfutil.OptionError{Key: "logo", Err: err}
	}
	if c.SigningAlg != "HS256" && c.SigningAlg != "EdDSA" { // before: JSON's opened the store first
		return cfutil.OptionErrf("signing_alg", "signing_alg must be HS256 or EdDSA, not %q", c.SigningAlg)
	}
	if c.AssertionHeader != "" && c.SigningAlg != "EdDSA" {
		return cfutil.OptionErrf("assertion_header", "assertion_header needs signing_alg EdDSA, so that upstreams can verify it with public keys")
	}
	if err := pages.CheckCookieDomain(c.CookieDomain, c.PublicOrigin, c.SiteOrigin); err != nil {
		return &cfutil.OptionError{Key: "cookie_domain", Err: err}
	}
	var err error
	if g.verifies, err = providers.CheckConfig(c.ProvidersRaw, c.Channels, g.host); err != nil {
		return err
	}
	if err := c.checkCounting(); err != nil {
		return err
	}
	if err := signin.CheckAdmins(c.Admins); err != nil {
		return &cfutil.OptionError{Key: "admins", Err: err}
	}
	if err := pages.CheckRedirectHosts(c.RedirectHosts); err != nil {
		return &cfutil.OptionError{Key: "redirect_hosts", Err: err}
	}
	key, origin, err := c.passkeyOrigin()
	if err == nil {
		g.webauthn, err = enrollment.NewWebAuthn(origin, c.CookieDomain, g.name)
	}
	if err != nil {
		return cfutil.OptionErrf(key, "%v", err)
	}
	if err := g.settleFactors(c); err != nil {
		return cfutil.OptionErrf("factors", "%v", err)
	}
	if err := g.checkUsers(c); err != nil { // the kinds settled: which channels, whether only they sign in
		return err
	}
	// The built-in languages here; an admin's own (messages_dir) once
	// Provision has read them.
	_, err = g.templates(c, words.English)
	return err
}

// checkIdentity refuses an identity a client could choose, and enrollment
// open without one; g reads the headers it names.
func (g *gate) checkIdentity(c *Gate) error {
	switch c.Enrollment {
	case EnrollmentOpen, EnrollmentClosed:
	default:
		return cfutil.OptionErrf("enrollment", "enrollment must be %q or %q, not %q", EnrollmentOpen, EnrollmentClosed, c.Enrollment)
	}
	if c.Identity == IdentityNone {
		if c.Enrollment == EnrollmentOpen {
			return cfutil.OptionErrf("enrollment", "enrollment open needs a first factor: with identity none, anyone could enroll as anyone")
		}
		return nil
	}
	if !siteblock.NamesAPlaceholder(c.Identity) {
		return cfutil.OptionErrf("identity", "identity must be a placeholder such as %s, or none; %q would name every visitor the same", DefaultIdentity, c.Identity)
	}
	if err := siteblock.CheckIdentitySource(c.Identity, DefaultIdentity); err != nil {
		return cfutil.OptionErrf("identity", "%v", err)
	}
	g.trusted = siteblock.TrustedHeaders(c.Identity, c.IdentityFrom)
	return nil
}

// checkRanges checks the numbers and the path prefix.
func (g *Gate) checkRanges() error {
	if g.RememberOff && g.Remember != 0 {
		return cfutil.OptionErrf("remember", "remember is both off and %s: choose one", time.Duration(g.Remember))
	}
	if err := cfutil.CheckNumbers(g.numbers()); err != nil {
		return err
	}
	if !pages.ValidPrefix(g.PathPrefix) {
		return cfutil.OptionErrf("path_prefix", "%s", pages.PrefixRule)
	}
	if g.SigningKey != "" && !strings.Contains(g.SigningKey, "{") && len(g.SigningKey) < 32 {
		return cfutil.OptionErrf("signing_key", "signing_key is %d bytes; it must be at least 32", len(g.SigningKey))
	}
	return nil
}

// checkUsers checks the provisioned users (signin.CheckUsers), a mistake
// at its user's line.
func (g *gate) checkUsers(c *Gate) error {
	users := make([]signin.User, len(c.Users))
	for i, u := range c.Users {
		users[i] = signin.User(u)
	}
	both := func(i, j int) string {
		return g.lines.Both("user "+c.Users[i].Name, "user "+c.Users[j].Name, "users", i, j)
	}
	if i, err := signin.CheckUsers(users, c.DefaultRegion, c.Identity == IdentityNone, c.numberPolicy(), g.policy, c.Channels, g.logger, both); err != nil {
		return &cfutil.OptionError{Key: "user " + c.Users[i].Name, Err: err}
	}
	return nil
}

// templates parses c's message templates and checks that every message
// fits its caps, in every language of cat (a Verify provider writes its
// own: only parsed then).
func (g *gate) templates(c *Gate, cat *words.Catalogue) (*enrollment.Templates, error) {
	t, err := enrollment.ParseTemplates(c.MessageTemplate, c.VoiceTemplate)
	if err == nil && !g.verifies {
		err = t.Fit(cat, g.name, g.host, c.CodeLength)
	}
	if err != nil {
		key := "message_template"
		if strings.HasPrefix(err.Error(), "voice_template") {
			key = "voice_template"
		}
		return nil, &cfutil.OptionError{Key: key, Err: err}
	}
	return t, nil
}

// passkeyOrigin is what passkeys are bound to, public_origin or else the
// origin of site_origin (none: no passkeys), and key the option it names.
func (g *Gate) passkeyOrigin() (key, origin string, err error) {
	if g.PublicOrigin != "" {
		return "public_origin", g.PublicOrigin, nil
	}
	origin, err = cfutil.OriginOf("site_origin", g.SiteOrigin)
	return "site_origin", origin, err
}

// MaxIdentity is the longest identity, in bytes, the gate signs in.
const MaxIdentity = signin.MaxIdentity
