package caddymodule

import (
	"encoding/json"
	"strconv"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

func parseCaddyfile(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	g := new(Gate)
	err := g.UnmarshalCaddyfile(h.Dispenser)
	return g, err
}

// UnmarshalCaddyfile sets up the gate from Caddyfile tokens. Syntax:
//
//	smsgate [<matcher>] {
//	    realm            <name>
//	    identity         <placeholder>|none
//	    enrollment       open|closed
//	    user             <name> <phone>
//	    session_lifetime <duration>
//	    signing_key      <secret>
//	    code_length      <digits>
//	    code_ttl         <duration>
//	    max_attempts     <count>
//	    resend_cooldown  <duration>
//	    redirect_hosts   <host...>
//	    path_prefix      <path>
//	    default_region   <country code>
//	    channels         sms|voice...
//	    message_template <template>
//	    voice_template   <template>
//	    site_name        <name>
//	    store            <module> [<args...>] [{ ... }]
//	    provider         <module> [<args...>] [{ ... }]
//	}
//
// `provider` may be given several times; providers are tried in order.
func (g *Gate) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // directive name
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(0) {
		opt := d.Val()
		switch opt {
		case "realm", "identity", "enrollment", "signing_key", "path_prefix", "default_region",
			"message_template", "voice_template", "site_name":
			var v string
			if !d.AllArgs(&v) {
				return d.ArgErr()
			}
			*map[string]*string{
				"realm": &g.Realm, "identity": &g.Identity, "enrollment": &g.Enrollment,
				"signing_key": &g.SigningKey, "path_prefix": &g.PathPrefix, "default_region": &g.DefaultRegion,
				"message_template": &g.MessageTemplate, "voice_template": &g.VoiceTemplate, "site_name": &g.SiteName,
			}[opt] = v
		case "channels":
			g.Channels = d.RemainingArgs()
			if len(g.Channels) == 0 {
				return d.ArgErr()
			}
		case "session_lifetime", "code_ttl", "resend_cooldown":
			var v string
			if !d.AllArgs(&v) {
				return d.ArgErr()
			}
			dur, err := caddy.ParseDuration(v)
			if err != nil {
				return d.Errf("%s: bad duration %q: %v", opt, v, err)
			}
			*map[string]*caddy.Duration{
				"session_lifetime": &g.SessionLifetime, "code_ttl": &g.CodeTTL, "resend_cooldown": &g.ResendCooldown,
			}[opt] = caddy.Duration(dur)
		case "code_length", "max_attempts":
			var v string
			if !d.AllArgs(&v) {
				return d.ArgErr()
			}
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				return d.Errf("%s: %q is not a positive whole number", opt, v)
			}
			*map[string]*int{"code_length": &g.CodeLength, "max_attempts": &g.MaxAttempts}[opt] = n
		case "user":
			var u User
			if !d.AllArgs(&u.Name, &u.Phone) {
				return d.Errf("user takes a name and a phone number: user <name> <phone>")
			}
			g.Users = append(g.Users, u)
		case "redirect_hosts":
			hosts := d.RemainingArgs()
			if len(hosts) == 0 {
				return d.ArgErr()
			}
			g.RedirectHosts = append(g.RedirectHosts, hosts...)
		case "store":
			if g.StoreRaw != nil {
				return d.Err("store is given twice")
			}
			raw, err := unmarshalModule(d, "smsgate.stores.", "module")
			if err != nil {
				return err
			}
			g.StoreRaw = raw
		case "provider":
			raw, err := unmarshalModule(d, "smsgate.providers.", "provider")
			if err != nil {
				return err
			}
			g.ProvidersRaw = append(g.ProvidersRaw, raw)
		default:
			return d.Errf("unrecognized subdirective '%s'", opt)
		}
	}
	return nil
}

// unmarshalModule parses `<option> <module> ...` into the module's JSON,
// with its name under key, the way Caddy's own directives nest modules.
func unmarshalModule(d *caddyfile.Dispenser, namespace, key string) (json.RawMessage, error) {
	if !d.NextArg() {
		return nil, d.ArgErr()
	}
	name := d.Val()
	mod, err := caddyfile.UnmarshalModule(d, namespace+name)
	if err != nil {
		return nil, err
	}
	return caddyconfig.JSONModuleObject(mod, key, name, nil), nil
}

// Interface guard
var _ caddyfile.Unmarshaler = (*Gate)(nil)
