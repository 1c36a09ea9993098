package caddymodule

import (
	"bytes"
	"compress/gzip"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/phone"
	"github.com/smsgate/caddy-smsgate/providers"
	"github.com/smsgate/caddy-smsgate/words"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets/*
var assetFS embed.FS

// defaultPages are the built-in templates; templates_dir overrides them.
var defaultPages = template.Must(template.ParseFS(templateFS, "templates/*.html"))

// loadPages returns the built-in templates, with any in dir (*.html)
// redefining them: an admin copies a {{define}} block and changes it.
func loadPages(dir string) (*template.Template, error) {
	if dir == "" {
		return defaultPages, nil
	}
	// A fresh parse: an html/template that has run cannot be cloned.
	t, err := template.ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.html"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("templates_dir %s: no *.html files", dir)
	}
	return t.ParseFiles(files...)
}

// pageData is what a page shows.
type pageData struct {
	Error string
	// Phone is what the user typed, to fill the form again.
	Phone string
	// Masked is the phone a pending code went to, when it may be shown.
	Masked string
	// Pending says a code was sent and can be typed in.
	Pending bool
	// Hidden says a code may have been sent to an account we do not name.
	Hidden bool
	// ResendIn is how many seconds remain before "send again".
	ResendIn int
	// Calling says the pending code comes by phone call.
	Calling bool
	// AskPhone asks for the number before a code is sent (verify-only).
	AskPhone bool
	// Devices are the user's phones, to choose from or manage.
	Devices []deviceView
	// RecoveryLeft counts unused recovery codes.
	RecoveryLeft int
	// Recovery are new recovery codes, shown once; Next is where to go on.
	Recovery []string
	Next     string
	// Token is an invite's, carried by its form.
	Token string
	// LockedFor is how many seconds sign-in stays locked (0: not locked):
	// the page then claims no code and offers no send.
	LockedFor int
	// Switch offers the other channel: "call" or "sms" ("" for none).
	Switch string
	// Recoverable offers "I don't have my phone" (a recovery code).
	Recoverable bool
	// RecoveryError says the last recovery code was refused.
	RecoveryError bool
	// App offers "Use my authenticator app"; AppError says its last code
	// was refused. NoPhone says the user has no phone to text (an app only).
	App, AppError, NoPhone bool
	// AppFirst opens the app's form: it is the device last used.
	AppFirst bool
	// Passkey offers "Use a passkey" (verify) or "Sign in with a passkey"
	// (login); Passkeys and Apps say the gate takes them at all (devices).
	Passkey, Passkeys, Apps bool
	// Requires says what this route asks for, when it asks for a kind.
	Requires string
	// Remember offers "Trust this browser for N days" (0: not offered).
	Remember int
	// Trusted are the user's trusted browsers (the devices page).
	Trusted []trustView
	// AppSetup is an app being added: its QR code (a data: URI), secret
	// and otpauth:// URI.
	AppSetup *appSetupView
	// Enrolling says the pending code is for a first phone: "change it".
	Enrolling bool
	// Confirm is a phone the user asked to remove, to confirm.
	Confirm *deviceView
	// PhoneError is an error about the phone typed (shown by its field);
	// DeviceName the name typed, kept.
	PhoneError, DeviceName string
	// Delivery is what the gateway said of the pending code's message:
	// "pending", "delivered", "failed", or "" when it says nothing.
	Delivery string
}

// verifyChoices are the ways the verify page offers to go on, as JSON
// clients see them: "sms" or "voice" (a code sent; "voice" also when the
// page offers a call instead), "otp" (an authenticator app's code),
// "recovery" (a recovery code).
func verifyChoices(d pageData) []string {
	choices := []string{}
	if d.LockedFor > 0 {
		return choices
	}
	if !d.NoPhone {
		if d.Calling {
			choices = append(choices, "voice")
		} else {
			choices = append(choices, "sms")
		}
		if d.Switch == "call" {
			choices = append(choices, "voice")
		} else if d.Switch == "sms" {
			choices = append(choices, "sms")
		}
	}
	if d.App {
		choices = append(choices, "otp")
	}
	if d.Passkey {
		choices = append(choices, "passkey")
	}
	if d.Recoverable {
		choices = append(choices, "recovery")
	}
	return choices
}

// view is pageData plus what every page needs.
type view struct {
	pageData
	Step       string
	Title      string
	Prefix     string
	CSRF       string
	CodeLength int
	// Calls says codes come by phone call.
	Calls bool
	// Lang is the page's language; T says a text in it (an English text
	// or an id, and its arguments as name, value pairs: words.Catalogue.T).
	Lang string
	T    func(string, ...any) string
	// SiteTitle and Logo brand the page.
	SiteTitle, Logo string
	// Accent says brand.css has a colour to give.
	Accent bool
	// Example is an example number for the phone field, PhoneHint its hint.
	Example, PhoneHint string
	// Regions are the country picker's choices.
	Regions []regionOption
}

var titles = map[string]string{
	"login":      words.N("Sign in"),
	"enroll":     words.N("Add your phone"),
	"verify":     words.N("Enter your code"),
	"logout":     words.N("Sign out"),
	"signed_out": words.N("Signed out"),
	"devices":    words.N("Your devices"),
	"app":        words.N("Add an authenticator app"),
	"passkey":    words.N("Add a passkey"),
	"recovery":   words.N("Your recovery codes"),
	"invite":     words.N("You are invited"),
	"message":    words.N("Sign-in"),
}

// verifyData describes the verify page for challenge c (nil when no code is
// pending). The number is shown only when the first factor already proved
// who the user is; after a login form it could tell who exists.
func (g *Gate) verifyData(req *request, c *enrollment.Challenge, errMsg string) pageData {
	d := pageData{Error: errMsg, Hidden: g.signin.Identity.NamesThemselves(), Remember: int(time.Duration(g.Remember) / (24 * time.Hour))}
	if wait := g.challenges.LockedFor(req.r.Context(), req.scope, req.user); wait > 0 && req.user != "" {
		d.LockedFor = int((wait + time.Second - 1) / time.Second)
	}
	// A user who can ask for a code can use a recovery code instead, or
	// another kind of device.
	verifying := req.user != "" && d.LockedFor == 0 && (c == nil || c.Purpose == enrollment.Verify)
	d.Recoverable = verifying
	channel := g.Channels[0]
	if c != nil {
		channel = c.Channel
	}
	if channel == providers.Voice {
		d.Switch = "sms"
	} else if g.offersCalls() {
		d.Switch = "call"
	}
	if c != nil {
		d.Pending = true
		d.Calling = c.Channel == providers.Voice
		d.Enrolling = c.Purpose == enrollment.Enroll
		if !d.Hidden {
			d.Masked = c.Masked
		}
		d.Delivery = g.delivery(req, c)
		if wait := c.ResendAt.Sub(g.now()); wait > 0 {
			d.ResendIn = int((wait + time.Second - 1) / time.Second)
		}
	}
	// After a first factor, the user's devices decide what is offered (one
	// read); with a login form, every name is offered every kind, which
	// tells nobody who has what.
	var list []enrollment.Device
	if !d.Hidden && req.user != "" {
		var dev *enrollment.Device
		var err error
		list, dev, err = g.signin.DevicesOf(req.r.Context(), req.realm, req.user)
		if err != nil {
			g.logger.Error("reading devices", zap.Error(err))
		}
		if c == nil && err == nil {
			if dev != nil {
				d.Masked = phone.Mask(dev.Phone)
				d.AskPhone = dev.Phone == ""
			}
			d.NoPhone = dev == nil
			if views := phonesOnly(g.viewsOf(req, list)); len(views) > 1 && !d.AskPhone {
				d.Devices = views // several phones: the user picks one
			}
			// The default device first: an app the user last signed in with opens.
			d.AppFirst = len(list) > 0 && list[0].Kind == enrollment.KindApp
		}
	}
	if d.NoPhone {
		d.Switch = ""
	}
	d.App = verifying && (d.Hidden || enrollment.HasKind(list, enrollment.KindApp))
	d.Passkey = verifying && g.webauthn != nil && (d.Hidden || enrollment.HasKind(list, enrollment.KindPasskey))
	// What this gate takes here (factors, and require on its route).
	if !g.offersTexts(req) {
		d.NoPhone, d.Switch, d.Pending = true, "", false
	}
	d.App = d.App && g.offers(req, "totp")
	d.AppFirst = d.AppFirst && d.App
	d.Passkey = d.Passkey && g.offers(req, "webauthn")
	d.Recoverable = d.Recoverable && g.offersRecovery(req)
	if len(g.Require) > 0 && !g.offersRecovery(req) && errMsg == "" {
		d.Requires = g.requiredWords(req)
	}
	return d
}

// page renders a step's page (or its JSON) and keeps the flow cookie.
func (g *Gate) page(req *request, status int, step string, d pageData) {
	g.saveFlow(req)
	d.Passkeys, d.Apps = g.webauthn != nil, g.takes("totp")
	if step == "login" {
		d.Passkey = d.Passkeys // a discoverable passkey names its user
	}
	g.pageNoFlow(req, status, step, d)
}

// pageNoFlow renders without touching the flow cookie.
func (g *Gate) pageNoFlow(req *request, status int, step string, d pageData) {
	if req.json {
		out := map[string]any{"step": step}
		if d.Error != "" {
			out["error"] = errorCode(status)
			out["message"] = d.Error
		}
		if d.Masked != "" {
			out["phone"] = d.Masked
		}
		if d.Delivery != "" {
			out["delivery"] = d.Delivery
		}
		if len(d.Devices) > 0 {
			out["devices"] = d.Devices
		}
		if step == "devices" {
			out["recovery_left"] = d.RecoveryLeft
			out["trusted_browsers"] = d.Trusted
		}
		if d.Recovery != nil {
			out["recovery_codes"] = d.Recovery
		}
		if step == "verify" {
			out["choices"] = verifyChoices(d)
			out["code_pending"] = d.Pending
			if d.ResendIn > 0 {
				out["resend_in"] = d.ResendIn
			}
		}
		writeJSON(req.w, status, out)
		return
	}
	lang := req.lang
	v := view{pageData: d, Step: step, Title: titles[step], Prefix: g.PathPrefix, CSRF: req.flow.CSRF, CodeLength: g.CodeLength,
		Calls: g.Channels[0] == providers.Voice, Lang: lang, T: func(key string, args ...any) string { return g.words.T(lang, key, args...) },
		SiteTitle: g.SiteName, Logo: g.Logo, Accent: g.Accent != "", Example: req.example,
		PhoneHint: words.N("Choose the country, then type the number as you know it; or start with + and the country code.")}
	if step == "enroll" || step == "devices" || step == "login" {
		v.Regions = g.regions(lang, req.region)
	}
	var buf bytes.Buffer
	if err := g.pages.ExecuteTemplate(&buf, "page", v); err != nil {
		g.logger.Error("rendering page", zap.String("step", step), zap.Error(err))
		http.Error(req.w, "500 Internal Server Error", http.StatusInternalServerError)
		return
	}
	h := req.w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", lang)
	h.Set("Content-Security-Policy", g.csp)
	req.w.WriteHeader(status)
	_, _ = req.w.Write(buf.Bytes())
}

// fail answers with a message page (or JSON error) and no form.
func (g *Gate) fail(req *request, status int, code, msg string) {
	if req.json {
		writeJSON(req.w, status, map[string]string{"error": code, "message": msg})
		return
	}
	g.pageNoFlow(req, status, "message", pageData{Error: msg})
}

// unavailable answers when the store or a signature failed; the cause is
// already in the log.
func (g *Gate) unavailable(req *request) {
	g.fail(req, http.StatusServiceUnavailable, "unavailable", g.sayID(req, "gate.unavailable"))
}

func errorCode(status int) string {
	switch status {
	case http.StatusTooManyRequests:
		return "too_many_requests"
	case http.StatusServiceUnavailable:
		return "unavailable"
	case http.StatusForbidden:
		return "forbidden"
	default:
		return "invalid"
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// acceptsJSON reports whether the client asked for JSON rather than a page.
func acceptsJSON(r *http.Request) bool {
	accept := r.Header.Get("Accept")
	return strings.Contains(accept, "application/json") && !strings.Contains(accept, "text/html")
}

// sentence turns an error's text into a sentence for a page.
// say is err in the reader's language: its words, or, for an error that
// has none (a fault, already in the log), that sign-in is unavailable.
func (g *Gate) say(req *request, err error) string {
	if t, ok := words.Of(err); ok {
		if _, set := t.Args["example"]; !set {
			// The example number is the page's own: the same one the
			// phone field shows.
			args := map[string]any{"example": req.example}
			for k, v := range t.Args {
				args[k] = v
			}
			t.Args = args
		}
		return g.words.Render(req.lang, t)
	}
	return g.sayID(req, "gate.unavailable")
}

// sayID is message id in the reader's language.
func (g *Gate) sayID(req *request, id string) string {
	return g.words.Render(req.lang, words.Text{ID: id})
}

// trimInput keeps a re-displayed input short.
func trimInput(s string) string {
	if len(s) > phone.MaxInput {
		return ""
	}
	return s
}

func retryAfter(d time.Duration) string {
	return strconv.Itoa(int((d + time.Second - 1) / time.Second))
}

// contentSecurityPolicy allows the gate's own script and styles and
// nothing inline; forms may post here and, after sign-in, lead on to the
// hosts a sign-in may return to (browsers apply form-action to redirects).
func (g *Gate) contentSecurityPolicy() string {
	img := "'self' data:"
	if u, err := url.Parse(g.Logo); err == nil && u.Scheme == "https" && u.Host != "" {
		img += " https://" + u.Host
	}
	forms := "'self'"
	for _, h := range g.RedirectHosts {
		forms += " https://" + h + ":*"
		if strings.HasSuffix(strings.TrimPrefix(h, "*."), "localhost") {
			forms += " http://" + h + ":*"
		}
	}
	if g.PortalURL != "" {
		forms += " " + g.PortalURL
	}
	return "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src " + img +
		"; form-action " + forms + "; frame-ancestors 'none'; base-uri 'none'"
}

// gzipped are the assets compressed once, at start.
var gzipped = func() map[string][]byte {
	out := map[string][]byte{}
	for _, name := range []string{"smsgate.css", "smsgate.js", "favicon.svg"} {
		raw, _ := assetFS.ReadFile("assets/" + name)
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		_, _ = zw.Write(raw)
		_ = zw.Close()
		out[name] = b.Bytes()
	}
	return out
}()

// serveAsset serves the pages' script and styles, and brand.css (the
// configured accent colour), from the gate's own path.
func (g *Gate) serveAsset(w http.ResponseWriter, r *http.Request, name string) {
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	switch name {
	case "brand.css":
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		if g.Accent != "" {
			fmt.Fprintf(w, ":root { --accent: %s; }\n", g.Accent)
		}
		return
	case "smsgate.css", "smsgate.js", "favicon.svg":
		raw, _ := assetFS.ReadFile("assets/" + name)
		ct := map[string]string{".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}[filepath.Ext(name)]
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Vary", "Accept-Encoding")
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			w.Header().Set("Content-Encoding", "gzip")
			raw = gzipped[name]
		}
		_, _ = w.Write(raw)
		return
	}
	http.NotFound(w, r)
}
