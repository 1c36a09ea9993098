package pages

import (
	"bytes"
	"compress/gzip"
	"embed"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
)

//go:embed assets/*
var assetFS embed.FS

// contentSecurityPolicy allows the gate's own script and styles and
// nothing inline; forms may post here and, after sign-in, lead on to the
// hosts a sign-in may return to (browsers apply form-action to redirects).
func (p *Pages) contentSecurityPolicy() string {
	img := "'self' data:"
	if u, err := url.Parse(p.Logo); err == nil && u.Scheme == "https" && u.Host != "" {
		img += " https://" + u.Host
	}
	forms := "'self'"
	for _, h := range p.RedirectHosts {
		forms += " https://" + h + ":*"
		if strings.HasSuffix(strings.TrimPrefix(h, "*."), "localhost") {
			forms += " http://" + h + ":*"
		}
	}
	if p.PortalURL != "" {
		forms += " " + p.PortalURL
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
func (p *Pages) serveAsset(w http.ResponseWriter, r *http.Request, name string) {
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	switch name {
	case "brand.css":
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		if p.Accent != "" {
			fmt.Fprintf(w, ":root { --accent: %s; }\n", p.Accent)
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
