package caddymodule

import (
	"cmp"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/cfutil"
	"github.com/smsgate/caddy-smsgate/phone"
	"github.com/smsgate/caddy-smsgate/session"
)

// The settings' defaults and ranges, and the send limits, merged into
// enrollment's.

// numbers are the options that hold a count or a duration, and their
// ranges: the one table that the Caddyfile parser and check (a JSON
// config) both read (TestNumbersAreRefusedAlike), and the docs state
// (TestREADMERangesAreTheTables).
func (g *Gate) numbers() []cfutil.Number {
	return []cfutil.Number{
		{Option: "session_lifetime", Duration: &g.SessionLifetime, Min: time.Second, Max: session.LongestLifetime},
		{Option: "code_length", Int: &g.CodeLength, Min: enrollment.MinCodeLength, Max: enrollment.MaxCodeLength},
		{Option: "code_ttl", Duration: &g.CodeTTL, Min: enrollment.MinCodeTTL, Max: enrollment.MaxCodeTTL},
		{Option: "max_attempts", Int: &g.MaxAttempts, Min: 1, Max: 10},
		// A cooldown of 0 would pay for every impatient click.
		{Option: "resend_cooldown", Duration: &g.ResendCooldown, Min: time.Second, Max: time.Hour},
		{Option: "max_age", Duration: &g.MaxAge, Min: time.Second, Unset: true},
		{Option: "key_rotation", Duration: &g.KeyRotation, Min: time.Minute, Unset: true},
		{Option: "step_up", Duration: &g.StepUp, Min: time.Second}, // a negative one turned it off
		{Option: "remember", Duration: &g.Remember, Min: 24 * time.Hour, Max: session.LongestLifetime, Unset: true},
		{Option: "lockout_after", Int: &g.LockoutAfter, Min: 1, Unset: true},
		{Option: "lockout", Duration: &g.Lockout, Min: time.Second, Unset: true},
		{Option: "max_failures", Int: &g.MaxFailures, Min: 1, Max: enrollment.MaxMaxFailures, Unset: true},
	}
}

// limits merges the configured limits into enrollment's defaults.
func (g *Gate) limits() (enrollment.Limits, error) {
	rates := make(map[string]enrollment.Rate, len(g.Limits))
	for name, lim := range g.Limits {
		rates[name] = enrollment.Rate{Count: lim.Count, Window: time.Duration(lim.Window)}
	}
	return enrollment.Configured(rates, g.LockoutAfter, time.Duration(g.Lockout), g.MaxFailures)
}

// withDefaults is a copy of the config with what it leaves out filled in,
// and no running gate: the config itself stays as written (Caddy reads no
// default back from a module).
func (g Gate) withDefaults() *Gate {
	g.run = nil
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
		g.Channels = []factor.Channel{factor.ChannelSMS}
	}
	g.ResendCooldown = cmp.Or(g.ResendCooldown, caddy.Duration(DefaultResendCooldown))
	if g.Remember == 0 && !g.RememberOff {
		g.Remember = caddy.Duration(DefaultRemember)
	}
	g.Realm = strings.ToLower(g.Realm)
	g.PublicOrigin = strings.TrimSuffix(g.PublicOrigin, "/")
	g.PortalURL = strings.TrimSuffix(g.PortalURL, "/")
	g.CookieDomain = cfutil.ASCIIHost(strings.TrimPrefix(strings.ToLower(g.CookieDomain), ".")) // as browsers match it
	g.DefaultRegion = strings.ToUpper(g.DefaultRegion)
	if g.Accent != "" && !strings.HasPrefix(g.Accent, "#") {
		g.Accent = "#" + g.Accent // in a Caddyfile, # starts a comment: accept 2563eb too
	}
	return &g
}

// numberPolicy is which numbers the gate texts or calls, as configured.
func (g *Gate) numberPolicy() *phone.Policy {
	return &phone.Policy{AllowedRegions: g.AllowedRegions, ChannelRegions: g.ChannelRegions, AllowPrefixes: g.AllowPrefixes, DenyPrefixes: g.DenyPrefixes, Types: g.NumberTypes}
}
