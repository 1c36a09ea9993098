package pages

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"path/filepath"
	"strings"
	"sync"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/cfutil"
	"github.com/smsgate/caddy-smsgate/phone"
	"github.com/smsgate/caddy-smsgate/signin"
	"github.com/smsgate/caddy-smsgate/words"
	"go.uber.org/zap"
)

//go:embed templates/*.html
var templateFS embed.FS

// defaultPages are the built-in templates, parsed when a gate first loads
// them (not at start: a Caddy without a gate, or a CLI command, never
// does); templates_dir overrides them.
var defaultPages = sync.OnceValue(func() *template.Template {
	return template.Must(template.ParseFS(templateFS, "templates/*.html"))
})

// Templates are the pages' HTML templates, loaded.
type Templates struct{ t *template.Template }

// LoadTemplates returns the built-in templates, with any in dir (*.html)
// redefining them: an admin copies a {{define}} block and changes it.
// Provision loads them before it opens anything, so that a broken one
// stops it first.
func LoadTemplates(dir string) (*Templates, error) {
	t, err := parseTemplates(dir)
	if err = cfutil.Folder("templates_dir", dir, err); err != nil {
		return nil, err
	}
	return &Templates{t}, nil
}

func parseTemplates(dir string) (*template.Template, error) {
	if dir == "" {
		return defaultPages(), nil
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
	SiteTitle string
	Logo      template.URL
	// Accent says brand.css has a colour to give.
	Accent bool
	// Example is an example number for the phone field, PhoneHint its hint.
	Example, PhoneHint string
	// Regions are the country picker's choices (shared by the pages that
	// choose the same country: read only); RegionOptions, its <option>
	// elements, rendered (the login page's without data-example).
	Regions       []regionOption
	RegionOptions template.HTML
	// SignedIn says the message page's reader is signed in: its way out
	// is back to the site, not a new sign-in (which would text her).
	SignedIn bool
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
	"console":    words.N("Console"),
}

// pageTitle is a page's heading: the verify page asks for a code only
// when it has a field for one.
func pageTitle(step string, d pageData) string {
	if step == "enroll" && d.Twin {
		return words.N("This name cannot add a phone here")
	}
	if step == "verify" {
		switch {
		case d.LockedFor > 0:
			return words.N("Sign-in locked")
		case d.Adding:
			return words.N("Confirm your new phone")
		case !d.Pending && !(d.NoPhone && d.App):
			return words.N("Confirm it's you")
		}
	}
	return titles[step]
}

// page renders a step's page (or its JSON) and keeps the flow cookie.
func (p *Pages) page(req *request, status int, step string, d pageData) {
	if p.endedMeanwhile(req) {
		return
	}
	p.saveFlow(req)
	d.Passkeys, d.Apps = p.Passkeys, p.Policy.Takes(factor.TOTP)
	if step == "login" {
		d.Passkey = d.Passkeys // a discoverable passkey names its user
	}
	p.pageNoFlow(req, status, step, d)
}

// pageNoFlow renders without touching the flow cookie.
func (p *Pages) pageNoFlow(req *request, status int, step string, d pageData) {
	if p.endedMeanwhile(req) {
		return
	}
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
		if d.CodesWithdrawn {
			out[signin.CodesWithdrawn] = true
		}
		if step == "devices" {
			if d.RecoveryLeft >= 0 {
				out["recovery_left"] = d.RecoveryLeft
			}
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
			if d.Unconfirmed != "" {
				out["unconfirmed"], out["notice"] = true, d.Unconfirmed
			}
		}
		WriteJSON(req.w, status, out)
		return
	}
	lang := req.lang
	v := view{pageData: d, Step: step, Title: pageTitle(step, d), Prefix: p.PathPrefix, CSRF: req.flow.CSRF, CodeLength: p.CodeLength,
		Calls: p.Channels[0] == factor.ChannelVoice, Lang: lang, T: func(key string, args ...any) string { return p.Words.T(lang, key, args...) },
		SiteTitle: p.SiteName, Logo: p.logo, Accent: p.Accent != "", Example: req.example,
		PhoneHint: words.N("Choose the country, then type the number as you know it; or start with + and the country code.")}
	if step == "enroll" || step == "devices" || step == "login" {
		v.Regions = p.regions(lang, req.region)
		v.RegionOptions = p.regionOptions(lang, req.region, step != "login")
	}
	if step == "message" && status < http.StatusInternalServerError {
		// (Not on a 503: a store that failed is not asked again for it.)
		v.SignedIn = p.session(req) != nil
	}
	var buf bytes.Buffer
	if err := p.Templates.t.ExecuteTemplate(&buf, "page", v); err != nil {
		p.Logger.Error("rendering page", zap.String("step", step), zap.Error(err))
		req.failed = caddyhttp.Error(http.StatusInternalServerError, errRender) // the site's handle_errors shapes it
		return
	}
	h := req.w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", lang)
	h.Set("Content-Security-Policy", p.csp)
	req.w.WriteHeader(status)
	_, _ = req.w.Write(buf.Bytes())
}

// fail answers with a message page (or JSON error) and no form.
func (p *Pages) fail(req *request, status int, code, msg string) {
	if p.endedMeanwhile(req) {
		return
	}
	if req.json {
		WriteJSON(req.w, status, map[string]string{"error": code, "message": msg})
		return
	}
	p.pageNoFlow(req, status, "message", pageData{Error: msg})
}

// unavailable answers when the store or a signature failed; the cause is
// already in the log. At the code step the page offers the code's form
// again: the code already sent works once the store answers, where
// starting again would ask for a new one and meet the resend cooldown.
func (p *Pages) unavailable(req *request) {
	msg := p.sayID(req, "gate.unavailable")
	if req.json || req.r.URL.Path != p.PathPrefix+"verify" {
		p.fail(req, http.StatusServiceUnavailable, "unavailable", msg)
		return
	}
	p.pageNoFlow(req, http.StatusServiceUnavailable, "message", pageData{Error: msg, Retry: true})
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

func WriteJSON(w http.ResponseWriter, status int, v any) {
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
func (p *Pages) say(req *request, err error) string {
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
		return p.Words.Render(req.lang, t)
	}
	return p.sayID(req, "gate.unavailable")
}

// sayID is message id in the reader's language.
func (p *Pages) sayID(req *request, id string) string {
	return p.Words.Render(req.lang, words.Text{ID: id})
}

// trimInput keeps a re-displayed input short.
func trimInput(s string) string {
	if len(s) > phone.MaxInput {
		return ""
	}
	return s
}
