package caddymodule

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/smsgate/caddy-smsgate/internal/cfutil"
)

func parseCaddyfile(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	g := new(Gate)
	if err := g.UnmarshalCaddyfile(h.Dispenser); err != nil {
		return nil, err
	}
	if g.Realm == "" {
		name, ok := siteHost(h)
		if !ok {
			h.Reset()
			h.Next()
			return nil, h.Errf("smsgate: this site does not have exactly one host name, so the realm cannot come from it: set realm (e.g. realm example.com); a realm is never taken from a request's Host header")
		}
		g.Realm = name
	}
	return g, nil
}

// siteHost is the one host name of the site block the directive is in, if
// it has exactly one (`example.com`, `http://localhost:8080`); none for
// `:80`, `http://`, `*.example.com`, placeholders or several addresses.
//
// Caddy's Helper keeps the site's addresses in an unexported field; it is
// read (never written) by reflection, and anything unexpected means "no
// single name", which fails closed with "set realm".
func siteHost(h httpcaddyfile.Helper) (string, bool) {
	if h.IsNamedRoute() {
		return "", false
	}
	keys := reflect.ValueOf(h).FieldByName("parentBlock").FieldByName("Keys")
	if !keys.IsValid() || keys.Kind() != reflect.Slice || keys.Len() != 1 {
		return "", false
	}
	text := keys.Index(0).FieldByName("Text")
	if !text.IsValid() || text.Kind() != reflect.String {
		return "", false
	}
	addr, err := httpcaddyfile.ParseAddress(text.String())
	host := strings.ToLower(strings.TrimSuffix(addr.Host, "."))
	if err != nil || host == "" || strings.ContainsAny(host, "*{}") {
		return "", false
	}
	return host, true
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
//	    public_origin    <scheme://host>
//	    cookie_domain    <domain>
//	    portal_url       <scheme://host>
//	    max_age          <duration>
//	    auth_header      <name> <value>
//	    signing_alg      HS256|EdDSA
//	    key_rotation     <duration>
//	    assertion_header <name>
//	    step_up          <duration>
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
//	    max_failures     <count>
//	    allowed_regions  <country codes...>
//	    allow_prefixes   <+prefix...>
//	    deny_prefixes    <+prefix...>
//	    number_types     sms|voice <types...>
//	    verify_only      <key>
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
			"message_template", "voice_template", "site_name", "verify_only", "public_origin",
			"cookie_domain", "portal_url", "signing_alg", "assertion_header",
			"logo", "accent", "templates_dir", "messages_dir":
			var v string
			if !d.AllArgs(&v) {
				return d.ArgErr()
			}
			*map[string]*string{
				"realm": &g.Realm, "identity": &g.Identity, "enrollment": &g.Enrollment,
				"signing_key": &g.SigningKey, "path_prefix": &g.PathPrefix, "default_region": &g.DefaultRegion,
				"message_template": &g.MessageTemplate, "voice_template": &g.VoiceTemplate, "site_name": &g.SiteName,
				"verify_only": &g.VerifyOnlyKey, "public_origin": &g.PublicOrigin,
				"cookie_domain": &g.CookieDomain, "portal_url": &g.PortalURL,
				"signing_alg": &g.SigningAlg, "assertion_header": &g.AssertionHeader,
				"logo": &g.Logo, "accent": &g.Accent, "templates_dir": &g.TemplatesDir, "messages_dir": &g.MessagesDir,
			}[opt] = v
		case "channels":
			g.Channels = d.RemainingArgs()
			if len(g.Channels) == 0 {
				return d.ArgErr()
			}
		case "allow_remove_last":
			if d.NextArg() {
				return d.ArgErr()
			}
			g.AllowRemoveLast = true
		case "session_lifetime", "code_ttl", "resend_cooldown", "max_age", "key_rotation", "step_up":
			dur, err := cfutil.DurationArg(d)
			if err != nil {
				return err
			}
			*map[string]*caddy.Duration{
				"session_lifetime": &g.SessionLifetime, "code_ttl": &g.CodeTTL, "resend_cooldown": &g.ResendCooldown,
				"max_age": &g.MaxAge, "key_rotation": &g.KeyRotation, "step_up": &g.StepUp,
			}[opt] = dur
		case "auth_header":
			var name, value string
			if !d.AllArgs(&name, &value) {
				return d.Errf("auth_header takes a header name and a value: auth_header Remote-User {smsgate.user}")
			}
			if g.AuthHeaders == nil {
				g.AuthHeaders = map[string]string{}
			}
			g.AuthHeaders[name] = value
		case "limit":
			var name, count, window string
			if !d.Args(&name, &count) {
				return d.Errf("limit takes a name, a count and a window: limit number 10 1h (or: limit number off)")
			}
			lim := Limit{}
			if count != "off" {
				n, err := strconv.Atoi(count)
				if err != nil || n < 0 || !d.AllArgs(&window) {
					return d.Errf("limit %s: want a count and a window, like: limit %s 10 1h", name, name)
				}
				dur, err := caddy.ParseDuration(window)
				if err != nil || dur <= 0 {
					return d.Errf("limit %s: bad window %q", name, window)
				}
				lim = Limit{Count: n, Window: caddy.Duration(dur)}
			} else if d.NextArg() {
				return d.ArgErr()
			}
			if g.Limits == nil {
				g.Limits = map[string]Limit{}
			}
			g.Limits[name] = lim
		case "lockout":
			dur, err := cfutil.DurationArg(d)
			if err != nil {
				return err
			}
			g.Lockout = dur
		case "allowed_regions", "allow_prefixes", "deny_prefixes":
			args := d.RemainingArgs()
			if len(args) == 0 {
				return d.ArgErr()
			}
			field := map[string]*[]string{"allowed_regions": &g.AllowedRegions, "allow_prefixes": &g.AllowPrefixes, "deny_prefixes": &g.DenyPrefixes}[opt]
			*field = append(*field, args...)
		case "number_types":
			args := d.RemainingArgs()
			if len(args) < 2 {
				return d.Errf("number_types takes a channel and types: number_types sms mobile voip")
			}
			if g.NumberTypes == nil {
				g.NumberTypes = map[string][]string{}
			}
			g.NumberTypes[args[0]] = args[1:]
		case "code_length", "max_attempts", "lockout_after", "max_failures":
			var v string
			if !d.AllArgs(&v) {
				return d.ArgErr()
			}
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				return d.Errf("%s: %q is not a positive whole number", opt, v)
			}
			*map[string]*int{"code_length": &g.CodeLength, "max_attempts": &g.MaxAttempts, "lockout_after": &g.LockoutAfter, "max_failures": &g.MaxFailures}[opt] = n
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
