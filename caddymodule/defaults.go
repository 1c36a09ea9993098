package caddymodule

import (
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/providers"
)

// The settings' defaults and the send limits, merged into enrollment's.

// prefixRule is what validPrefix wants.
const prefixRule = "path_prefix must begin and end with '/', like " + DefaultPathPrefix + ", and be a path of this site: not //, \\, ? or #"

// validPrefix reports whether p can be the gate's path prefix: a path of
// this site, as every link and redirect the gate writes begins with it
// (a browser reads //host/ and /\host/ as another host; ? and # end the
// path, so the pages could not be reached).
func validPrefix(p string) bool {
	return strings.HasPrefix(p, "/") && strings.HasSuffix(p, "/") && len(p) >= 3 &&
		!strings.HasPrefix(p, "//") && !strings.ContainsAny(p, "\\?#")
}

// limits merges the configured limits into enrollment's defaults.
func (g *Gate) limits() (enrollment.Limits, error) {
	rates := make(map[string]enrollment.Rate, len(g.Limits))
	for name, lim := range g.Limits {
		rates[name] = enrollment.Rate{Count: lim.Count, Window: time.Duration(lim.Window)}
	}
	return enrollment.Configured(rates, g.LockoutAfter, time.Duration(g.Lockout), g.MaxFailures)
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
