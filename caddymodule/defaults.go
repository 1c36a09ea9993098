package caddymodule

import (
	"cmp"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/phone"
	"github.com/smsgate/caddy-smsgate/providers"
)

// The settings' defaults and the send limits, merged into enrollment's.

// limits merges the configured limits into enrollment's defaults.
func (g *Gate) limits() (enrollment.Limits, error) {
	rates := make(map[string]enrollment.Rate, len(g.Limits))
	for name, lim := range g.Limits {
		rates[name] = enrollment.Rate{Count: lim.Count, Window: time.Duration(lim.Window)}
	}
	return enrollment.Configured(rates, g.LockoutAfter, time.Duration(g.Lockout), g.MaxFailures)
}

// setDefaults fills in what the config leaves out.
func (g *Gate) setDefaults() {
	g.Identity = cmp.Or(g.Identity, DefaultIdentity)
	if g.Enrollment == "" {
		g.Enrollment = EnrollmentOpen
		if g.Identity == IdentityNone {
			g.Enrollment = EnrollmentClosed
		}
	}
	g.PathPrefix = cmp.Or(g.PathPrefix, DefaultPathPrefix)
	g.SessionLifetime = cmp.Or(g.SessionLifetime, caddy.Duration(DefaultSessionLifetime))
	g.CodeLength = cmp.Or(g.CodeLength, DefaultCodeLength)
	g.CodeTTL = cmp.Or(g.CodeTTL, caddy.Duration(DefaultCodeTTL))
	g.MaxAttempts = cmp.Or(g.MaxAttempts, DefaultMaxAttempts)
	g.StepUp = cmp.Or(g.StepUp, caddy.Duration(DefaultStepUp))
	g.SigningAlg = cmp.Or(g.SigningAlg, "HS256")
	if len(g.Channels) == 0 {
		g.Channels = []string{providers.SMS}
	}
	g.ResendCooldown = cmp.Or(g.ResendCooldown, caddy.Duration(DefaultResendCooldown))
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

// numberPolicy is which numbers the gate texts or calls, as configured.
func (g *Gate) numberPolicy() *phone.Policy {
	return &phone.Policy{AllowedRegions: g.AllowedRegions, ChannelRegions: g.ChannelRegions, AllowPrefixes: g.AllowPrefixes, DenyPrefixes: g.DenyPrefixes, Types: g.NumberTypes}
}
