package caddymodule

import (
	"cmp"
	"errors"
	"fmt"
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

// check validates the config, its defaults set. It opens nothing, reads no
// file and resolves no environment variable, so that it can also run when
// a Caddyfile is adapted; what it works out (the host, the passkeys'
// origin, the factors) is kept.
func (g *Gate) check() error {
	if g.Realm == "" {
		return cfutil.OptionErrf("realm", "realm is not set: set realm (in a Caddyfile, a site with a single host name sets it for you)")
	}
	g.host, g.name = cfutil.ASCIIHost(g.Realm), cmp.Or(g.SiteName, g.Realm) // as browsers send it, as people write it
	for _, o := range [][2]string{{"public_origin", g.PublicOrigin}, {"portal_url", g.PortalURL}} {
		if err := cfutil.BrowserURL(o[0], o[1], o[0] == "portal_url"); err != nil { // a portal's may have a path
			return err
		}
	}
	if u, _ := url.Parse(g.PublicOrigin); g.PublicOrigin != "" {
		g.host = strings.ToLower(u.Hostname())
		g.name = cmp.Or(g.SiteName, cfutil.UnicodeHost(g.host))
	}
	if g.DefaultRegion != "" && !phone.KnownRegion(g.DefaultRegion) {
		return cfutil.OptionErrf("default_region", "default_region %q is not a region code such as US or GB", g.DefaultRegion)
	}
	if err := g.checkIdentity(); err != nil {
		return err
	}
	if err := siteblock.CheckAuthHeaders(g.AuthHeaders, g.AssertionHeader != ""); err != nil {
		return err
	}
	if err := g.checkRanges(); err != nil {
		return err
	}
	if err := g.numberPolicy().Validate(); err != nil {
		pe := &phone.PolicyError{Option: "allowed_regions"} // unless the mistake names its option
		errors.As(err, &pe)
		return &cfutil.OptionError{Key: pe.Option, Err: err}
	}
	if _, err := g.limits(); err != nil {
		return err
	}
	if g.Accent != "" && !accentColour.MatchString(g.Accent) {
		return cfutil.OptionErrf("accent", "accent must be a colour like #2563eb, not %q", g.Accent)
	}
	if err := pages.CheckLogo(g.Logo, g.PublicOrigin, g.SiteOrigin); err != nil {
		return &cfutil.OptionError{Key: "logo", Err: err}
	}
	if g.SigningAlg != "HS256" && g.SigningAlg != "EdDSA" { // before: JSON's opened the store first
		return cfutil.OptionErrf("signing_alg", "signing_alg must be HS256 or EdDSA, not %q", g.SigningAlg)
	}
	if g.AssertionHeader != "" && g.SigningAlg != "EdDSA" {
		return cfutil.OptionErrf("assertion_header", "assertion_header needs signing_alg EdDSA, so that upstreams can verify it with public keys")
	}
	if err := pages.CheckCookieDomain(g.CookieDomain, g.PublicOrigin, g.SiteOrigin); err != nil {
		return &cfutil.OptionError{Key: "cookie_domain", Err: err}
	}
	var err error
	if g.verifies, err = providers.CheckConfig(g.ProvidersRaw, g.Channels, g.host); err != nil {
		return err
	}
	if err := g.checkCounting(); err != nil {
		return err
	}
	if err := signin.CheckAdmins(g.Admins); err != nil {
		return &cfutil.OptionError{Key: "admins", Err: err}
	}
	if err := pages.CheckRedirectHosts(g.RedirectHosts); err != nil {
		return &cfutil.OptionError{Key: "redirect_hosts", Err: err}
	}
	key, origin, err := g.passkeyOrigin()
	if err == nil {
		g.webauthn, err = enrollment.NewWebAuthn(origin, g.CookieDomain, g.name)
	}
	if err != nil {
		return cfutil.OptionErrf(key, "%v", err)
	}
	if err := g.settleFactors(); err != nil {
		return cfutil.OptionErrf("factors", "%v", err)
	}
	if err := g.checkUsers(); err != nil { // the kinds settled: which channels, whether only they sign in
		return err
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
		return cfutil.OptionErrf("enrollment", "enrollment must be %q or %q, not %q", EnrollmentOpen, EnrollmentClosed, g.Enrollment)
	}
	if g.Identity == IdentityNone {
		if g.Enrollment == EnrollmentOpen {
			return cfutil.OptionErrf("enrollment", "enrollment open needs a first factor: with identity none, anyone could enroll as anyone")
		}
		return nil
	}
	if !siteblock.NamesAPlaceholder(g.Identity) {
		return cfutil.OptionErrf("identity", "identity must be a placeholder such as %s, or none; %q would name every visitor the same", DefaultIdentity, g.Identity)
	}
	if p := siteblock.ClientChosen(g.Identity); p != "" {
		return cfutil.OptionErrf("identity", "identity %s: {%s} is whatever the client sends, so anyone could be anyone: use a first factor's placeholder such as %s, a header a forward_auth sets, or none", g.Identity, p, DefaultIdentity)
	}
	g.trusted = siteblock.TrustedHeaders(g.Identity, g.IdentityFrom)
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
func (g *Gate) checkUsers() error {
	users := make([]signin.User, len(g.Users))
	for i, u := range g.Users {
		users[i] = signin.User(u)
	}
	if i, err := signin.CheckUsers(users, g.DefaultRegion, g.Identity == IdentityNone, g.numberPolicy(), g.policy, g.Channels, g.logger, g.bothUsers); err != nil {
		return &cfutil.OptionError{Key: "user " + g.Users[i].Name, Err: err}
	}
	return nil
}

// bothUsers names users i and j where they were written: their Caddyfile
// lines, or in JSON their indices.
func (g *Gate) bothUsers(i, j int) string {
	a, b := g.lines["user "+g.Users[i].Name], g.lines["user "+g.Users[j].Name]
	if a.Line == 0 || b.Line == 0 {
		return fmt.Sprintf("users[%d] and users[%d]", i, j)
	}
	return fmt.Sprintf("%s:%d and %s:%d", a.File, a.Line, b.File, b.Line)
}

// templates parses the message templates and checks that every message
// fits its caps, in every language of cat (a Verify provider writes its
// own: only parsed then).
func (g *Gate) templates(cat *words.Catalogue) (*enrollment.Templates, error) {
	t, err := enrollment.ParseTemplates(g.MessageTemplate, g.VoiceTemplate)
	if err == nil && !g.verifies {
		err = t.Fit(cat, g.name, g.host, g.CodeLength)
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
