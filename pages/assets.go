package pages

import (
	"bytes"
	"compress/gzip"
	"embed"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/smsgate/caddy-smsgate/chart"
	"github.com/smsgate/caddy-smsgate/internal/cfutil"
	"github.com/smsgate/caddy-smsgate/internal/localhost"
)

//go:embed assets/*
var assetFS embed.FS

// contentSecurityPolicy allows the gate's own script and styles and
// nothing inline; forms may post here and, after sign-in, lead on to the
// hosts a sign-in may return to (browsers apply form-action to redirects).
func (p *Pages) contentSecurityPolicy() string {
	img := "'self' data:"
	if host := logoHost(CleanLogo(p.Logo)); host != "" {
		img += " https://" + host
	}
	forms := "'self'"
	for _, h := range p.RedirectHosts {
		forms += " https://" + h // the scheme's port, where h names none: as safeRedirect
		if name, _ := splitEntry(h); localhost.Is(strings.TrimPrefix(name, "*.")) {
			forms += " http://" + h
		}
	}
	if p.PortalURL != "" {
		forms += " " + p.PortalURL
	}
	return "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src " + img +
		"; form-action " + forms + "; frame-ancestors 'none'; base-uri 'none'"
}

// logoHost is the host of an https logo, which the CSP allows ("" for
// any other).
func logoHost(logo string) string {
	if u, err := url.Parse(logo); err == nil && u.Scheme == "https" && u.Host != "" {
		return u.Host
	}
	return ""
}

// CleanLogo is logo as browsers read it: spaces around it, and tabs and
// line breaks anywhere, dropped (a URL parser drops them), and in a
// base64 data: URL every space (its decoder skips them): a data: URL
// wrapped in a Caddyfile heredoc is one image.
func CleanLogo(logo string) string {
	logo = strings.Map(func(c rune) rune {
		if c == '\t' || c == '\n' || c == '\r' {
			return -1
		}
		return c
	}, strings.TrimSpace(logo))
	if data, ok := cutPrefixFold(logo, "data:"); ok {
		if meta, _, _ := strings.Cut(data, ","); strings.HasSuffix(strings.ToLower(strings.TrimSpace(meta)), ";base64") {
			logo = strings.Join(strings.Fields(logo), "")
		}
	}
	return logo
}

// cutPrefixFold is strings.CutPrefix, ignoring case.
func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// CheckLogo refuses a logo the pages' CSP would block, or that is no
// image: the page would show a broken image and say nothing. Allowed: a
// path on the site, an https URL (its host is added to img-src), a URL of
// the site's own origin ('self': an http one on a localhost site), a
// data:image/ URL; logo as CleanLogo reads it. origins are the site's
// (public_origin, site_origin): the first set is the pages'; with none
// (JSON without either), an http URL at localhost may be the site's and
// is let through.
func CheckLogo(logo string, origins ...string) error {
	logo = CleanLogo(logo)
	u, err := url.Parse(logo)
	switch {
	case logo == "" || logoHost(logo) != "":
		return nil
	case err != nil:
	case u.Scheme == "" && u.Host == "" && !strings.HasPrefix(logo, "//") && !strings.HasPrefix(logo, "/\\"):
		return nil // a path on the site: 'self'
	case strings.EqualFold(u.Scheme, "data") && strings.HasPrefix(strings.ToLower(u.Opaque), "image/"):
		return nil
	case u.Scheme == "http" && u.Host != "":
		site := siteOrigin(origins)
		if o := cfutil.Origin(u); o != "" && (o == site || site == "" && localhost.Is(u.Hostname())) {
			return nil // 'self'
		}
	}
	return fmt.Errorf("logo %q: the pages' Content-Security-Policy shows only a path on this site (/logo.png), a URL of the site's own origin, an https URL (its host is added to img-src) or a data:image/ URL", logo)
}

// siteOrigin is the origin of the first of origins set ("" for none).
func siteOrigin(origins []string) string {
	for _, o := range origins {
		if u, err := url.Parse(o); o != "" && err == nil {
			return cfutil.Origin(u)
		}
	}
	return ""
}

// logoURL is the logo for the pages' <img>, as CleanLogo reads it:
// html/template writes #ZgotmplZ for a URL of any scheme but http, https
// and mailto, so that a data:image/ logo showed a broken image; CheckLogo
// let only those through (the config's, not a visitor's), and a URL of
// any other scheme is left out here too.
func logoURL(logo string) template.URL {
	logo = CleanLogo(logo)
	u, err := url.Parse(logo)
	if err != nil || u.Scheme != "" && !slices.Contains([]string{"http", "https", "data"}, strings.ToLower(u.Scheme)) {
		return ""
	}
	return template.URL(logo)
}

// gzipped are the assets compressed, once, when the first is asked for:
// a Caddy that never serves the pages (a CLI command, a forward-auth
// portal's API clients) does not pay for it at start.
var gzipped = sync.OnceValue(func() map[string][]byte {
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
})

// serveAsset serves the pages' script and styles, and brand.css (the
// configured accent colour), from the gate's own path.
func (p *Pages) serveAsset(w http.ResponseWriter, r *http.Request, name string) error {
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	switch name {
	case "admin.css":
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		_, _ = io.WriteString(w, consoleCSS)
		return nil
	case "brand.css":
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		if p.Accent != "" {
			fmt.Fprintf(w, ":root { --accent: %s; }\n", p.Accent)
		}
		return nil
	case "smsgate.css", "smsgate.js", "favicon.svg":
		raw, _ := assetFS.ReadFile("assets/" + name)
		ct := map[string]string{".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}[filepath.Ext(name)]
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Vary", "Accept-Encoding")
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			w.Header().Set("Content-Encoding", "gzip")
			raw = gzipped()[name]
		}
		_, _ = w.Write(raw)
		return nil
	}
	w.Header().Del("Cache-Control") // the site's error page is not ours to cache
	return caddyhttp.Error(http.StatusNotFound, errNotFound)
}

// consoleCSS styles the console: wider, its tables, and the charts
// (package chart's stylesheet).
var consoleCSS = chart.CSS + `/* The console. */
body { grid-template-columns: minmax(0, 1fr); }
main.console { width: min(72rem, 100% - 1rem); padding: 1.5rem 1rem; }
input[type=search] { width: 100%; font-size: 1rem; padding: .55rem .6rem; border: 1px solid var(--muted); border-radius: 8px; background: transparent; color: var(--fg); }
/* "Invite or find someone by name" as the search above it (walk36: a
   taller field, a button as wide as the page). */
form.find input[type=text] { font-size: 1rem; padding: .55rem .6rem; }
form[role=search], form.find { margin-bottom: 1rem; }
form[role=search] button, form.find button { width: auto; margin: .5rem 0 0; }
.console-nav { display: flex; flex-wrap: wrap; gap: .25rem 1.25rem; margin-bottom: 1rem; }
.console-nav a[aria-current=page] { font-weight: 700; text-decoration-thickness: 3px; }
.scroll { overflow-x: auto; margin: .5rem 0 1rem; position: relative; }
table.console { border-collapse: collapse; width: 100%; font-size: .9rem; font-variant-numeric: tabular-nums; }
table.console th, table.console td { padding: .3rem .5rem; text-align: left; border-bottom: 1px solid color-mix(in srgb, currentColor 25%, transparent); vertical-align: top; }
table.console caption { text-align: left; font-weight: 600; }
/* A cell's value is one line — a name ("Telefon 1"), a number, a date —
   and a table wider than the screen scrolls in its box (walk36: at 360 px
   "Telefon / 1"); a session's how and where, and an event's details, are
   text and wrap. */
table.console td { white-space: nowrap; }
table.console.sessions td:nth-child(2), table.console.sessions td:nth-child(3), table.console td[data-kind] ~ td:last-child { white-space: normal; }
/* That text keeps a reading width in a table wider than its box: the
   table scrolls anyway, and squeezed to its longest word an event's
   details ran down a phone's screen a word a line, "Authenticator" over
   "-App", each row tall and empty beside them (walk37). */
table.console.sessions td:nth-child(2), table.console.sessions td:nth-child(3), table.console td[data-kind] ~ td:last-child { min-width: 14rem; }
table.console form { margin: 0; }
table.console button { margin: 0; width: auto; padding: .25rem .6rem; }
form.actions { display: flex; flex-wrap: wrap; gap: .5rem; margin-bottom: 1rem; }
form.actions button { width: auto; margin: 0; }
form.single { margin-bottom: 1rem; }
form.single button { width: auto; }
.invite-link { word-break: break-all; }
img.qr { display: block; background: #fff; padding: 8px; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
`
