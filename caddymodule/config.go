// Package caddymodule is smsgate's Caddy glue: the `smsgate` HTTP handler,
// its Caddyfile syntax, Provision and the forward-auth answer. The pages
// are package pages, the decisions package signin, codes and devices
// package enrollment, storage package store, tokens package session; this
// package wires them to Caddy.
package caddymodule

import (
	"encoding/json"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/figures"
	"github.com/smsgate/caddy-smsgate/pages"
	"github.com/smsgate/caddy-smsgate/pumping"
)

func init() {
	caddy.RegisterModule(Gate{})
	httpcaddyfile.RegisterDirective("smsgate", parseDirective)
	// After basic_auth and forward_auth, so that a first factor (or an SSO's
	// forward_auth copying in Remote-User) has run when the gate asks who
	// the user is.
	httpcaddyfile.RegisterDirectiveOrder("smsgate", httpcaddyfile.After, "forward_auth")
}

// Defaults of the Gate's settings.
const (
	DefaultIdentity        = "{http.auth.user.id}"
	DefaultPathPrefix      = pages.DefaultPrefix
	DefaultSessionLifetime = 12 * time.Hour
	DefaultCodeLength      = 6
	DefaultCodeTTL         = 5 * time.Minute
	DefaultMaxAttempts     = 5
	DefaultResendCooldown  = 30 * time.Second
	DefaultStepUp          = 5 * time.Minute
	DefaultRemember        = 30 * 24 * time.Hour

	// IdentityNone makes users identify themselves on the login page.
	IdentityNone = "none"
	// EnrollmentOpen lets a user with a first factor enroll a phone on first visit.
	EnrollmentOpen = "open"
	// EnrollmentClosed admits only users whose phone the admin provisioned.
	EnrollmentClosed = "closed"
)

// Gate is an HTTP handler that lets a request through only with a session
// earned by proving possession of a phone. Unauthenticated browsers are sent
// to its pages under PathPrefix; other clients get 401.
//
// On success, the next handlers see `{http.auth.user.id}` and
// `{smsgate.user}`, `{smsgate.auth_time}` and `{smsgate.amr}`, and the
// session cookie is removed from the request (it is a bearer token).
type Gate struct {
	// Namespaces users, devices and sessions (the token's `aud`), so that
	// sites sharing one store do not share users. Required in JSON; the
	// Caddyfile sets it to the site's host name when the site has exactly
	// one (never from a request's Host header). A site with several names,
	// a wildcard or none (`:80`) must set it.
	Realm string `json:"realm,omitempty"`

	// Where the user's identity comes from: a placeholder set by a first
	// factor, such as `{http.request.header.Remote-User}` copied in by an
	// SSO's forward_auth, or "none" to let users name themselves on the
	// login page (provisioned users only). Default: `{http.auth.user.id}`
	// (set by basic_auth). An empty identity is refused, never let through,
	// and so is one longer than 256 bytes or with control, direction or
	// invisible characters. A request header is believed only where a forward_auth
	// earlier in the route copied it from its auth answer, or from the
	// server's trusted_proxies; a client's own copy names nobody. A
	// placeholder the client sets outright (a cookie, the query) is refused.
	Identity string `json:"identity,omitempty"`

	// The auth answer's headers a forward_auth copies the identity header
	// from, when it renames them (copy_headers X-Auth-User>Remote-User:
	// X-Auth-User). The Caddyfile fills it from the site's forward_auth.
	// Default: the identity header's own name.
	IdentityFrom []string `json:"identity_from,omitempty"`

	// "open": a user with a first factor and no phone enrolls one on first
	// visit (trust on first use). "closed": only provisioned users get in.
	// Default: open with a first factor, closed with identity "none".
	Enrollment string `json:"enrollment,omitempty"`

	// Users and their phone numbers, provisioned by the admin. A
	// provisioned number takes precedence over an enrolled one.
	Users []User `json:"users,omitempty"`

	// How long a session lasts after a code is verified: 1s to 400d. Default: 12h.
	SessionLifetime caddy.Duration `json:"session_lifetime,omitempty"`

	// The secret that signs sessions and hashes codes, at least 32 bytes
	// (use `{env.SMSGATE_SECRET}`). Default: one generated once and kept
	// in the store, so sessions survive restarts.
	SigningKey string `json:"signing_key,omitempty"`

	// Number of digits in a code, 6 to 10. Default: 6.
	CodeLength int `json:"code_length,omitempty"`

	// How long a code is valid, 30s to 10m. Default: 5m.
	CodeTTL caddy.Duration `json:"code_ttl,omitempty"`

	// Wrong codes that kill a challenge, 1 to 10. Default: 5.
	MaxAttempts int `json:"max_attempts,omitempty"`

	// Wait before "send again", or a switch between text and call, may
	// send a new code; it doubles with each resend. From 1s to 1h (0 in
	// JSON is the default). Default: 30s.
	ResendCooldown caddy.Duration `json:"resend_cooldown,omitempty"`

	// Hosts, besides this site, that a sign-in may return to (`rd`): exact
	// names or `*.example.com`. Default: none, only paths on this site.
	RedirectHosts []string `json:"redirect_hosts,omitempty"`

	// The origin browsers use for this site, e.g. https://app.example.com,
	// which POSTs' Origin and Referer must match. Default: the request's
	// scheme and host; behind a TLS-terminating proxy listed in the
	// server's trusted_proxies, its X-Forwarded-Proto is believed.
	PublicOrigin string `json:"public_origin,omitempty"`

	// Share the session cookie with every host under this domain (e.g.
	// example.com), for one sign-in across apps. Default: this host only.
	CookieDomain string `json:"cookie_domain,omitempty"`

	// The portal's origin (e.g. https://auth.example.com), where the
	// forward-auth check sends visitors to sign in. Default: the host
	// that was asked.
	PortalURL string `json:"portal_url,omitempty"`

	// Per-route step-up: a session counts only if its code was entered
	// within this time. Default: 0, any session within its lifetime.
	MaxAge caddy.Duration `json:"max_age,omitempty"`

	// Headers a successful forward-auth check answers with, name to value;
	// values may use {smsgate.user}, {smsgate.auth_time}, {smsgate.amr}.
	// Default: Remote-User: {smsgate.user}.
	AuthHeaders map[string]string `json:"auth_headers,omitempty"`

	// How sessions are signed: "HS256" (a secret only this gate knows) or
	// "EdDSA" (Ed25519 keys kept in the store, public keys at
	// /.smsgate/jwks.json so upstreams can verify too). Default: HS256.
	SigningAlg string `json:"signing_alg,omitempty"`

	// With EdDSA, how often a new signing key is made; older keys still
	// verify until the sessions they signed expire. Default: never.
	KeyRotation caddy.Duration `json:"key_rotation,omitempty"`

	// With EdDSA, a request header that carries a short-lived signed
	// assertion of the identity to the upstream (verify it with the JWKS),
	// like Pomerium's X-Pomerium-Jwt-Assertion. Default: none.
	AssertionHeader string `json:"assertion_header,omitempty"`

	// How recent a code must be to add or remove phones or renew recovery
	// codes at /.smsgate/devices. Default: 5m.
	StepUp caddy.Duration `json:"step_up,omitempty"`

	// The users who may open the admin's console (<path_prefix>admin/):
	// signed in within the last 5 minutes, and with their authenticator
	// app or passkey when they have one. Default: none (no console).
	Admins []string `json:"admins,omitempty"`

	// The kinds of device this gate takes: sms, voice, totp (authenticator
	// apps), webauthn (passkeys). Default: every kind it can offer.
	Factors []factor.Kind `json:"factors,omitempty"`

	// The kinds a session must have been earned with to pass this gate (a
	// stronger kind for a route: require totp webauthn on /admin*). A
	// trusted browser's session never counts. Default: any.
	Require []factor.Kind `json:"require,omitempty"`

	// Offer "Trust this browser" (unticked) at the verify step: a trusted
	// browser whose session expired skips the code (the first factor still
	// applies) for this long, from 1d to 400d. Never the per-route max_age
	// nor require. Default: 30d.
	Remember caddy.Duration `json:"remember,omitempty"`

	// Offer no "Trust this browser": every sign-in after a session ends
	// needs a code (Caddyfile: `remember off`). Default: false.
	RememberOff bool `json:"remember_off,omitempty"`

	// Let users remove their last phone (they then enroll again by the
	// site's rule). Default: false.
	AllowRemoveLast bool `json:"allow_remove_last,omitempty"`

	// Branding: a logo (a path or URL of this site, a data:image/ URL, its
	// line breaks ignored, or an https URL: what the pages' CSP shows; any
	// other is refused) and an accent colour (#rrggbb); the title: SiteName.
	Logo   string `json:"logo,omitempty"`
	Accent string `json:"accent,omitempty"`

	// A folder of *.html files that redefine the built-in templates
	// (pages/templates/page.html: "page", "login", "enroll",
	// "verify", …), for full control of the pages. Default: built-in.
	TemplatesDir string `json:"templates_dir,omitempty"`

	// A folder of <lang>.json message catalogues (English text →
	// translation) adding or overriding the pages' languages. Built in:
	// English and German.
	MessagesDir string `json:"messages_dir,omitempty"`

	// Where the gate's pages live. Default: `/.smsgate/`.
	PathPrefix string `json:"path_prefix,omitempty"`

	// Country (ISO 3166 code, e.g. "US") of numbers typed without "+".
	// Default: none, a "+" is required.
	DefaultRegion string `json:"default_region,omitempty"`

	// How codes may travel: "sms", "voice" (a call that reads the code),
	// or both; the first is the default and the verify page offers the
	// other ("call me instead"). Default: sms.
	Channels []factor.Channel `json:"channels,omitempty"`

	// The SMS text, a Go text/template with .Code, .Site, .Host, .User.
	// Default: "Your {{.Site}} verification code is {{.Code}}." and the
	// WebOTP line "@{{.Host}} #{{.Code}}".
	MessageTemplate string `json:"message_template,omitempty"`

	// What a voice call says (twice); .Digits is the code spaced out
	// for speech. Default: "Your {{.Site}} verification code is: {{.Digits}}."
	VoiceTemplate string `json:"voice_template,omitempty"`

	// The site's own address (scheme://host[:port]), for the links the
	// admin's tools print (invites). Default: the Caddyfile's site
	// address, when it has one host name; public_origin wins over it.
	SiteOrigin string `json:"site_origin,omitempty"`

	// The site's name in messages. Default: the host of public_origin,
	// else the realm.
	SiteName string `json:"site_name,omitempty"`

	// Send limits by name — user, number, ip, country, voice,
	// global_enrolled, global_new — each at most `count` sends per
	// `window`; a count of 0 turns one off. Defaults: user 10/h, number
	// 10/h, ip 20/h, country 200/h, voice 1/h (per user), global_enrolled
	// 1000/h, global_new 100/h (the global ones a realm's, shared by its
	// gates). And guesses: codes checked per account
	// from browsers that are not the owner's, default 100 a day, which
	// may not allow more than a 1% chance of guessing a code in 30 days.
	// And what strangers may make the gate keep (a login form's names,
	// passkey sign-ins begun): stranger_ip 60/h (per IP, IPv6 per /64),
	// stranger_net 600/h (per IPv6 /48), strangers 5000/h (in total: the
	// bound on the store); known_user, one user's share of the known
	// browsers' total (as large): a hundredth of strangers (50/h).
	Limits map[string]Limit `json:"limits,omitempty"`

	// Wrong codes from one user and IP before a lockout. Default: 10.
	LockoutAfter int `json:"lockout_after,omitempty"`
	// The first lockout; each further one doubles, up to a day. Default: 1m.
	Lockout caddy.Duration `json:"lockout,omitempty"`
	// Wrong codes in a row (a right one starts afresh), from any IP, that
	// lock an account for 15 minutes, sent at once or not; the owner's
	// known browsers count apart. Default and maximum: 100 (NIST SP 800-63B).
	MaxFailures int `json:"max_failures,omitempty"`

	// Countries (ISO 3166 codes) whose numbers may enroll. Default: all.
	// GB does not include Guernsey, Jersey and the Isle of Man (+44 too):
	// add GG JE IM for them.
	AllowedRegions []string `json:"allowed_regions,omitempty"`
	// Per channel ("sms", "voice"), the countries that channel may reach,
	// instead of AllowedRegions: e.g. texts to the EU, calls only to the
	// US. Default: AllowedRegions for both.
	ChannelRegions map[factor.Channel][]string `json:"channel_regions,omitempty"`
	// If set, only numbers starting with one of these (e.g. "+4479").
	AllowPrefixes []string `json:"allow_prefixes,omitempty"`
	// Numbers starting with one of these are refused.
	DenyPrefixes []string `json:"deny_prefixes,omitempty"`
	// Number types each channel may reach. Defaults: sms: mobile,
	// fixed_line_or_mobile; voice: those and fixed_line. Premium-rate,
	// shared-cost, UAN and toll-free numbers are never accepted.
	NumberTypes map[factor.Channel][]string `json:"number_types,omitempty"`

	// Turns on verify-only mode: devices keep only an HMAC-SHA256 of their
	// number under this key (at least 32 bytes; use `{env.X}`), users type
	// their number again to sign in, and one number serves one user. The
	// key must not live in the store it protects. Default: off.
	VerifyOnlyKey string `json:"verify_only_key,omitempty"`

	// What texts and calls cost, for the admin's figures: a currency, and
	// a price per country (or * for the rest) and channel. Default: no
	// prices (the figures count texts, and show no cost for them).
	Costs *figures.Costs `json:"costs,omitempty"`

	// The pumping guard: new sends to a country or number prefix whose
	// codes are used too seldom pause there for a while. Default: on,
	// with the settings pumping.Defaults names; `off` turns it off.
	PumpingGuard *pumping.Config `json:"pumping_guard,omitempty"`

	// Where devices, challenges and keys are kept. Default: Badger in
	// Caddy's data directory.
	StoreRaw json.RawMessage `json:"store,omitempty" caddy:"namespace=smsgate.stores inline_key=module"`

	// Senders of codes, tried in order until one accepts.
	ProvidersRaw []json.RawMessage `json:"providers,omitempty" caddy:"namespace=smsgate.providers inline_key=provider"`

	// The running gate Provision builds from the fields above (UnmarshalCaddyfile
	// starts it with where each option was written): Caddy keeps a module's running
	// state in the module value; one pointer, not embedded, so none of it is Gate's.
	run *gate
}

// Limit is at most Count events per Window.
type Limit struct {
	Count  int            `json:"count"`
	Window caddy.Duration `json:"window,omitempty"`
}

// User is a provisioned user.
type User struct {
	// The user's ID, as the first factor names it or as typed at login.
	Name string `json:"name"`
	// The phone number in international format, e.g. +14155552671.
	Phone string `json:"phone"`
}

// CaddyModule returns the Caddy module information.
func (Gate) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.smsgate",
		New: func() caddy.Module { return new(Gate) },
	}
}
