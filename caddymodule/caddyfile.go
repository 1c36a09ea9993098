package caddymodule

import (
	"encoding/json"
	"strconv"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/figures"
	"github.com/smsgate/caddy-smsgate/internal/cfutil"
	"github.com/smsgate/caddy-smsgate/pages"
	"github.com/smsgate/caddy-smsgate/pumping"
	"github.com/smsgate/caddy-smsgate/siteblock"
)

// UnmarshalCaddyfile sets up the gate from Caddyfile tokens. Syntax:
//
//	smsgate [<matcher>] {
//	    realm            <name>
//	    identity         <placeholder>|none
//	    enrollment       open|closed
//	    user             <name> <phone>
//	    session_lifetime <duration, 1s to 400d>
//	    signing_key      <secret>
//	    code_length      <digits, 6 to 10>
//	    code_ttl         <duration, 30s to 10m>
//	    max_attempts     <count, 1 to 10>
//	    resend_cooldown  <duration, 1s to 1h>
//	    redirect_hosts   <host...>
//	    path_prefix      <path>
//	    public_origin    <scheme://host>
//	    cookie_domain    <domain>
//	    portal_url       <scheme://host>
//	    max_age          <duration>
//	    auth_header      <name> <value>
//	    signing_alg      HS256|EdDSA
//	    key_rotation     <duration>
//	    assertion_header <name>
//	    step_up          <duration>
//	    admins           <user...>
//	    factors          sms|voice|totp|webauthn...
//	    require          sms|voice|totp|webauthn...
//	    remember         <duration, 1d to 400d>|off
//	    logo             <url>
//	    accent           <#rrggbb>
//	    templates_dir    <folder>
//	    messages_dir     <folder>
//	    allow_remove_last
//	    default_region   <country code>
//	    channels         sms|voice...
//	    limit            <name> <count> <window>|off
//	    lockout_after    <count>
//	    lockout          <duration>
//	    max_failures     <count, 1 to 100>
//	    allowed_regions  [sms|voice] <country codes...>
//	    allow_prefixes   <+prefix...>
//	    deny_prefixes    <+prefix...>
//	    number_types     sms|voice <types...>
//	    verify_only      <key>
//	    message_template <template>
//	    voice_template   <template>
//	    site_name        <name>
//	    site_origin      <scheme://host[:port][/path]>
//	    costs            { currency <code>; price <country|*> <sms|voice> <price> }
//	    pumping_guard    off | { window, prefix_digits, prefix_min_sends, country_min_sends, min_conversion, pause, grace }
//	    store            <module> [<args...>] [{ ... }]
//	    provider         <module> [<args...>] [{ ... }]
//	}
//
// `user`, `provider`, `limit` (one per name), `auth_header` (one per
// header), `number_types` and `allowed_regions` (one per channel) may be
// given several times; providers are tried in order. Any other option
// given twice is an error, and so is a value out of its range: both name
// the line. README.md's block is this one (TestREADMEOptionsAreTheParsers).
func (g *Gate) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // directive name
	lines := cfutil.Lines{"": d.Token()}
	g.run = &gate{lines: lines} // where each option was written
	if d.NextArg() {
		return d.ArgErr()
	}
	seen := map[string]bool{}
	for d.NextBlock(0) {
		opt := d.Val()
		tok := d.Token()
		key := opt
		switch opt {
		case "limit", "auth_header", "number_types", "allowed_regions":
			if d.NextArg() {
				key = opt + " " + d.Val()
				d.Prev()
			}
		}
		if seen[key] && opt != "user" && opt != "provider" {
			return d.Errf("%s is given twice", key)
		}
		seen[key] = true
		if err := siteblock.HeaderTwin(key, lines); err != nil { // attack40b H2
			return d.Err(err.Error())
		}
		lines[key] = tok
		var err error
		switch opt {
		case "session_lifetime", "code_length", "code_ttl", "max_attempts", "resend_cooldown", "max_age", "key_rotation",
			"step_up", "lockout_after", "lockout", "max_failures":
			err = cfutil.FindNumber(g.numbers(), opt).Parse(d)
		case "realm":
			err = cfutil.String(d, &g.Realm)
		case "identity":
			err = cfutil.String(d, &g.Identity)
		case "enrollment":
			if err = cfutil.String(d, &g.Enrollment); err == nil && g.Enrollment != EnrollmentOpen && g.Enrollment != EnrollmentClosed {
				err = d.Errf("enrollment must be %s or %s, not %q", EnrollmentOpen, EnrollmentClosed, g.Enrollment)
			}
		case "user":
			var u User
			if !d.AllArgs(&u.Name, &u.Phone) {
				return d.Errf("user takes a name and a phone number: user <name> <phone>")
			}
			g.Users = append(g.Users, u)
			lines["user "+u.Name] = tok
		case "signing_key":
			err = cfutil.String(d, &g.SigningKey)
		case "redirect_hosts":
			err = cfutil.List(d, &g.RedirectHosts)
		case "path_prefix":
			if err = cfutil.String(d, &g.PathPrefix); err == nil && !pages.ValidPrefix(g.PathPrefix) {
				err = d.Errf("%s", pages.PrefixRule)
			}
		case "public_origin":
			err = cfutil.String(d, &g.PublicOrigin)
		case "cookie_domain":
			err = cfutil.String(d, &g.CookieDomain)
		case "portal_url":
			err = cfutil.String(d, &g.PortalURL)
		case "auth_header":
			var name, value string
			if !d.AllArgs(&name, &value) {
				return d.Errf("auth_header takes a header name and a value: auth_header Remote-User {http.auth.user.id}")
			}
			if g.AuthHeaders == nil {
				g.AuthHeaders = map[string]string{}
			}
			g.AuthHeaders[name] = value
		case "signing_alg":
			err = cfutil.String(d, &g.SigningAlg) // checked (check), at its line
		case "assertion_header":
			err = cfutil.String(d, &g.AssertionHeader)
		case "admins":
			err = cfutil.List(d, &g.Admins)
		case "factors", "require":
			opt := d.Val()
			list := map[string]*[]factor.Kind{"factors": &g.Factors, "require": &g.Require}[opt]
			if err = cfutil.List(d, list); err == nil {
				for _, k := range *list {
					if !k.Known() {
						return d.Errf("%s: unknown kind %q: use %s", opt, k, factor.KindNames)
					}
				}
			}
		case "remember":
			if d.NextArg() {
				if d.Val() == "off" {
					if d.NextArg() {
						return d.ArgErr()
					}
					g.RememberOff = true
					break
				}
				d.Prev()
			}
			err = cfutil.FindNumber(g.numbers(), opt).Parse(d)
		case "logo":
			err = cfutil.String(d, &g.Logo)
		case "accent":
			err = cfutil.String(d, &g.Accent)
		case "templates_dir":
			err = cfutil.String(d, &g.TemplatesDir)
		case "messages_dir":
			err = cfutil.String(d, &g.MessagesDir)
		case "allow_remove_last":
			if d.NextArg() {
				return d.ArgErr()
			}
			g.AllowRemoveLast = true
		case "default_region":
			err = cfutil.String(d, &g.DefaultRegion)
		case "channels":
			err = cfutil.Channels(d, &g.Channels)
		case "limit":
			err = g.parseLimit(d)
		case "allowed_regions":
			args := d.RemainingArgs()
			switch {
			case len(args) == 0:
				return d.ArgErr()
			case factor.Channel(args[0]).Known():
				if len(args) < 2 {
					return d.Errf("allowed_regions %s takes country codes: allowed_regions %s US CA", args[0], args[0])
				}
				if g.ChannelRegions == nil {
					g.ChannelRegions = map[factor.Channel][]string{}
				}
				g.ChannelRegions[factor.Channel(args[0])] = args[1:]
			default:
				g.AllowedRegions = append(g.AllowedRegions, args...)
			}
		case "allow_prefixes":
			err = cfutil.List(d, &g.AllowPrefixes)
		case "deny_prefixes":
			err = cfutil.List(d, &g.DenyPrefixes)
		case "number_types":
			args := d.RemainingArgs()
			if len(args) < 2 {
				return d.Errf("number_types takes a channel and types: number_types sms mobile voip")
			}
			if g.NumberTypes == nil {
				g.NumberTypes = map[factor.Channel][]string{}
			}
			g.NumberTypes[factor.Channel(args[0])] = args[1:] // an unknown channel: the policy's check, at this line
		case "verify_only":
			err = cfutil.String(d, &g.VerifyOnlyKey)
		case "message_template":
			err = cfutil.String(d, &g.MessageTemplate)
		case "voice_template":
			err = cfutil.String(d, &g.VoiceTemplate)
		case "site_name":
			err = cfutil.String(d, &g.SiteName)
		case "site_origin":
			err = cfutil.String(d, &g.SiteOrigin)
		case "costs":
			g.Costs = new(figures.Costs)
			err = g.Costs.UnmarshalCaddyfile(d)
		case "pumping_guard":
			g.PumpingGuard = new(pumping.Config)
			err = g.PumpingGuard.UnmarshalCaddyfile(d)
		case "store":
			g.StoreRaw, err = cfutil.Module(d, "smsgate.stores.", "module")
		case "provider":
			var raw json.RawMessage
			if raw, err = cfutil.Module(d, "smsgate.providers.", "provider"); err == nil {
				g.ProvidersRaw = append(g.ProvidersRaw, raw)
				lines["provider "+strconv.Itoa(len(g.ProvidersRaw))] = tok
			}
		default:
			return d.Errf("unrecognized subdirective '%s'", opt)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// parseLimit reads `limit <name> <count> <window>` or `limit <name> off`.
func (g *Gate) parseLimit(d *caddyfile.Dispenser) error {
	var name, count, window string
	if !d.Args(&name, &count) {
		return d.Errf("limit takes a name, a count and a window: limit number 10 1h (or: limit number off)")
	}
	if new(enrollment.Limits).Named(name) == nil {
		return d.Errf("unknown limit %q: use %s", name, enrollment.LimitList())
	}
	lim := Limit{}
	if count != "off" {
		n, err := strconv.Atoi(count)
		if err != nil || !d.AllArgs(&window) {
			return d.Errf("limit %s: want a count and a window, like: limit %s 10 1h", name, name)
		}
		dur, err := caddy.ParseDuration(window)
		if err != nil {
			return d.Errf("limit %s: bad window %q", name, window)
		}
		if err := (enrollment.Rate{Count: n, Window: dur}).Check(name); err != nil {
			return d.Err(err.Error())
		}
		lim = Limit{Count: n, Window: caddy.Duration(dur)}
	} else if d.NextArg() {
		return d.ArgErr()
	}
	if g.Limits == nil {
		g.Limits = map[string]Limit{}
	}
	g.Limits[name] = lim
	return nil
}

// Interface guard
var _ caddyfile.Unmarshaler = (*Gate)(nil)
