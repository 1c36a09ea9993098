// Package pages is the gate's pages: everything under its path prefix but
// the forward-auth answer — routing, forms and their CSRF tokens, the
// sealed flow cookie, the steps of a sign-in, the devices page, passkeys'
// ceremonies, trusted browsers, delivery receipts, the country picker,
// templates and assets, and which answer each sign-in error gets. It asks
// package signin to decide; it reads requests and renders what it answers.
package pages

import (
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/smsgate/caddy-smsgate/admin"
	"github.com/smsgate/caddy-smsgate/audit"
	"github.com/smsgate/caddy-smsgate/continuity"
	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/logonce"
	"github.com/smsgate/caddy-smsgate/phone"
	"github.com/smsgate/caddy-smsgate/providers"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/signin"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/words"
)

// DefaultPrefix is where the pages are unless path_prefix moves them.
const DefaultPrefix = "/.smsgate/"

// PrefixRule is what ValidPrefix wants.
const PrefixRule = "path_prefix must begin and end with '/', like " + DefaultPrefix + ", and be a path of this site that a browser sends as written: " +
	"segments of ASCII letters, digits and " + prefixMarks + ", none empty, . or .. (so no //, \\, ?, #, %, space or quote)"

// prefixMarks are the marks a prefix may hold besides letters, digits and
// slashes: those a browser sends as written in a path and html/template
// leaves in a link (it escapes ' ( and ), Chromium | and ^).
const prefixMarks = "-._~!$&*+,=:@"

// ValidPrefix reports whether p can be the pages' path prefix. Every link,
// redirect and form the pages write begins with it as written, the flow's
// and trust's cookies are scoped to it (a browser compares a cookie's path
// with the path it sends, escaped), and the gate compares it with the
// path Go decodes (r.URL.Path): so it must be a path of this site (a
// browser reads //host/ and /\host/ as another host; ? and # end the path)
// that a browser sends unchanged. A % would be decoded (/%2esmsgate/ is
// /.smsgate/ to the gate), a space, a quote or a letter beyond ASCII
// escaped (then no cookie path matches), ; dropped from a cookie's path,
// and a . or .. segment resolved away: the pages could not be reached.
func ValidPrefix(p string) bool {
	if !strings.HasPrefix(p, "/") || !strings.HasSuffix(p, "/") || len(p) < 3 {
		return false
	}
	for _, seg := range strings.Split(p[1:len(p)-1], "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
		for _, c := range []byte(seg) {
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(prefixMarks, c) >= 0) {
				return false
			}
		}
	}
	return true
}

// Config is what the pages are built from: the gate's settings (the
// smsgate handler's options of the same names say what each means) and
// the services Provision made.
type Config struct {
	// Realm namespaces users; Host names the site in messages (never a
	// request's Host header); LinkOrigin is where links to the gate point.
	Realm, Host, LinkOrigin string
	PathPrefix              string
	Channels                []factor.Channel
	CodeLength              int
	// Policy is the kinds of device the gate takes and requires.
	Policy *signin.Policy
	// Remember is how long a trusted browser skips the code (0: no
	// trust offered); StepUp how recent a code must be to change devices;
	// MaxAge, for the gate's route (0: any age), and so for its console and
	// its devices page's changes.
	Remember, StepUp, MaxAge time.Duration
	RedirectHosts            []string
	// Admins may open the console (console.go); Site is the gate as the
	// admin's tools see it, whose operations the console runs.
	Admins []string
	Site   *admin.Site
	// SiteOrigin is the site's (site_origin): its host names the default
	// realm, whose cookies keep the shared names (cookieNames).
	PublicOrigin, PortalURL, SiteOrigin string
	CookieDomain                        string
	SiteName, Logo, Accent              string
	AllowedRegions                      []string
	DefaultRegion                       string
	// Templates are the pages' (see LoadTemplates).
	Templates *Templates
	// Passkeys says the gate takes passkeys (it has an origin to bind them to).
	Passkeys bool

	SignIn   *signin.Service
	Sessions *session.Manager
	Store    store.Store
	// Flows sign the flow cookie, Sealer seals it; Known signs the
	// known-browser cookie.
	Flows, Known *session.Keys
	Sealer       *session.Sealer
	Words        *words.Catalogue
	// Receipts is the provider whose gateway reports delivery, if any.
	Receipts     providers.Receipts
	ReceiptsName string
	// Receipt hears a delivery receipt's end (the admin's figures).
	Receipt func(provider, country, status string)
	// Epoch says whether the store is still the one the gate knew (what
	// a check of it notices, the gate's watch hears: storewatch).
	Epoch   *continuity.Watch
	Metrics *audit.Metrics
	Audit   signin.Auditor
	// Identify is who the first factor says the visitor is; not ok when
	// nobody believable is (the gate has logged why).
	Identify func(r *http.Request) (user string, ok bool)
	Logger   *zap.Logger
	Now      func() time.Time
}

// Pages serves a gate's pages.
type Pages struct {
	Config
	csp     string
	example string       // an example number for the phone field
	logo    template.URL // Logo for the pages' <img> (logoURL)
	// portalPlain: PortalURL is plain http at loopback, where the gate's
	// cookies keep their old names (OldCountsAtCheck).
	portalPlain bool
	// publicHTTPS: browsers see the site over https (public_origin), so its
	// cookies are Secure whatever Host a proxy in front asks with (secure).
	publicHTTPS bool
	// The policies of the step-ups (rules), built with the pages rather
	// than at each of a verify page's questions of what it offers.
	strongWithin, passkeyOnly, strongOnly *signin.Policy
	// names are the site-wide cookies' (namesFor).
	names cookieNames
	// forged throttles the warnings of forged delivery receipts (twilioStatus).
	forged *logonce.Throttle
}

// New builds the pages of a gate.
func New(c Config) *Pages {
	p := &Pages{Config: c, publicHTTPS: strings.HasPrefix(c.PublicOrigin, "https://"), names: namesFor(c),
		forged: &logonce.Throttle{Every: forgedEvery, Lines: forgedLines}}
	if u, err := url.Parse(c.PortalURL); c.PortalURL != "" && err == nil {
		p.portalPlain = insecureURL(u)
	}
	p.csp, p.logo = p.contentSecurityPolicy(), logoURL(c.Logo)
	p.example = phone.Example(append(c.AllowedRegions, c.DefaultRegion, "US")...)
	p.strongWithin, p.passkeyOnly, p.strongOnly = c.Policy.StrongOnlyWithin(), c.Policy.PasskeyOnly(), c.Policy.StrongOnly()
	return p
}

// ServeHTTP serves the pages under PathPrefix (the forward-auth answer,
// <prefix>auth, is the module's).
func (p *Pages) ServeHTTP(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "same-origin") // no-referrer would make browsers send "Origin: null" on our own POSTs
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Frame-Options", "DENY")
	if r.Method == http.MethodPost {
		limitBodyTime(w)
	}

	switch strings.TrimPrefix(r.URL.Path, p.PathPrefix) {
	case "twilio/status":
		return p.twilioStatus(w, r) // the gateway's delivery receipts: signed, no flow
	case "jwks.json":
		w.Header().Set("Cache-Control", "public, max-age=300")
		WriteJSON(w, http.StatusOK, p.Sessions.JWKS())
		return nil
	}
	if name, ok := strings.CutPrefix(r.URL.Path, p.PathPrefix+"assets/"); ok {
		return p.serveAsset(w, r, name)
	}
	req := &request{w: w, r: r, realm: p.Realm, host: p.Host, json: acceptsJSON(r), lang: p.Words.Match(r.Header.Get("Accept-Language")), began: p.Sessions.Begin()}
	if err := p.serve(req); err != nil {
		return err
	}
	return req.failed
}

// serve serves a page of the gate to req.
func (p *Pages) serve(req *request) error {
	w, r := req.w, req.r
	req.scope = enrollment.Scope{Realm: req.realm, Host: req.host, IP: ClientIP(r), Lang: req.lang}
	prior, ok := p.Identify(r)
	if !ok {
		// The first factor the config promised is missing: a misordered
		// handler or a matcher gap, never a reason to let the request in
		// or to start enrollment for nobody.
		return caddyhttp.Error(http.StatusUnauthorized, errNoFirstFactor)
	}
	req.flow = p.readFlow(r, req.realm)
	req.user = p.SignIn.User(prior, &req.flow.Flow)
	p.readKnown(req)
	p.renameSession(req)
	var err error
	if req.known, err = p.knownUser(req); err != nil {
		p.Logger.Error("reading whether this browser is still known", zap.Error(err))
		p.unavailable(req)
		return nil
	}
	req.scope.Known = req.known != "" && req.known == req.user

	var handle func(*request)
	step := strings.TrimPrefix(r.URL.Path, p.PathPrefix)
	if strings.HasPrefix(step, "passkey/") {
		if p.liveForChange(req, step) {
			p.passkey(req, step) // JSON of their own: the browser's WebAuthn answers
		}
		return nil
	}
	switch step {
	case "login":
		handle = p.login
	case "enroll":
		handle = p.enroll
	case "verify":
		handle = p.verify
	case "logout":
		handle = p.logout
	case "devices":
		handle = p.devices
	case "invite":
		handle = p.invite
	case "recovery":
		handle = p.recovery
	case "status":
		handle = p.deliveryStatus
	case "admin/", "admin/user", "admin/events", "admin/costs":
		if len(p.Admins) == 0 {
			return p.refuse(req, http.StatusNotFound, errNotFound, "gate.not_found")
		}
		handle = p.console
	default:
		return p.refuse(req, http.StatusNotFound, errNotFound, "gate.not_found")
	}

	switch r.Method {
	case http.MethodGet:
		if rd := r.URL.Query().Get("rd"); rd != "" {
			req.flow.RD = safeRedirect(rd, p.RedirectHosts)
		}
	case http.MethodPost:
		if !p.readForm(req) {
			return nil
		}
	default:
		w.Header().Set("Allow", "GET, POST")
		return p.refuse(req, http.StatusMethodNotAllowed, errMethod, "gate.method")
	}
	leftStepUp(req, step)
	// The country picker's choice (or its preset), and its example number.
	req.region = p.presetRegion(req.form["region"], r.Header.Get("Accept-Language"))
	if req.example = phone.Example(req.region); req.example == "" {
		req.example = p.example
	}
	if (step == "login" || step == "verify" || step == "enroll") && p.trustedSignIn(req) {
		return nil // a trusted browser: no code
	}
	if !p.liveForChange(req, step) {
		return nil // an ended session's change: to sign-in
	}
	handle(req)
	return nil
}
