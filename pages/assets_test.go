package pages

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// TestAssetsGzipped: a browser that takes gzip gets each asset compressed
// (made once, when the first is asked for), and it unpacks to the asset;
// one that does not gets the asset as it is.
func TestAssetsGzipped(t *testing.T) {
	t.Parallel()
	p := &Pages{}
	for _, name := range []string{"smsgate.css", "smsgate.js", "favicon.svg"} {
		raw, err := assetFS.ReadFile("assets/" + name)
		if err != nil || len(raw) == 0 {
			t.Fatalf("%s: %v", name, err)
		}
		for _, enc := range []string{"", "gzip, deflate, br"} {
			r := httptest.NewRequest("GET", "/.smsgate/assets/"+name, nil)
			r.Header.Set("Accept-Encoding", enc)
			w := httptest.NewRecorder()
			if err := p.serveAsset(w, r, name); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			body := w.Body.Bytes()
			if w.Header().Get("Vary") != "Accept-Encoding" {
				t.Errorf("%s: Vary %q", name, w.Header().Get("Vary"))
			}
			if got := w.Header().Get("Content-Encoding"); enc == "" {
				if got != "" || !bytes.Equal(body, raw) {
					t.Errorf("%s without gzip: Content-Encoding %q, %d bytes, want the asset's %d", name, got, len(body), len(raw))
				}
				continue
			} else if got != "gzip" {
				t.Fatalf("%s with gzip: Content-Encoding %q", name, got)
			}
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			unpacked, err := io.ReadAll(zr)
			if err != nil || !bytes.Equal(unpacked, raw) {
				t.Errorf("%s: unpacks to %d bytes (%v), want the asset's %d", name, len(unpacked), err, len(raw))
			}
			if len(body) >= len(raw) {
				t.Errorf("%s: gzipped %d bytes, the asset %d", name, len(body), len(raw))
			}
		}
	}
}

// TestDarkChangesOnlyColours: the dark colour scheme changes the
// stylesheet's colour variables and nothing else, and no page or script
// asks for the scheme in a way of its own: the browser tests check the
// dark views with axe-core's rules about colour only (views), which holds
// only while dark and light differ in colours alone.
func TestDarkChangesOnlyColours(t *testing.T) {
	t.Parallel()
	css, err := assetFS.ReadFile("assets/smsgate.css")
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile(`@media[^{]*prefers-color-scheme[^{]*\{\s*:root\s*\{([^{}]*)\}\s*\}`)
	variable := regexp.MustCompile(`^\s*--[a-z-]+\s*:\s*#[0-9a-fA-F]{3,8}\s*$`)
	found := block.FindAllSubmatch(css, -1)
	if len(found) == 0 {
		t.Fatal("smsgate.css has no dark scheme (a block that sets :root's variables)")
	}
	for _, m := range found {
		for _, decl := range strings.Split(strings.TrimSpace(string(m[1])), ";") {
			if strings.TrimSpace(decl) != "" && !variable.MatchString(decl) {
				t.Errorf("the dark scheme sets %q: more than a colour variable", strings.TrimSpace(decl))
			}
		}
	}
	if n := bytes.Count(css, []byte("prefers-color-scheme")); n != len(found) {
		t.Errorf("smsgate.css names prefers-color-scheme %d times, in %d blocks that set colour variables only", n, len(found))
	}
	for _, files := range []struct {
		fsys fs.FS
		dir  string
	}{{assetFS, "assets"}, {templateFS, "templates"}} {
		entries, err := fs.ReadDir(files.fsys, files.dir)
		if err != nil || len(entries) == 0 {
			t.Fatalf("%s: %d files, %v", files.dir, len(entries), err)
		}
		for _, e := range entries {
			if e.Name() == "smsgate.css" {
				continue
			}
			b, err := fs.ReadFile(files.fsys, files.dir+"/"+e.Name())
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(b, []byte("prefers-color-scheme")) || bytes.Contains(b, []byte("matchMedia")) {
				t.Errorf("%s/%s asks for the colour scheme: the dark views would differ in more than colours", files.dir, e.Name())
			}
		}
	}
}

// TestLogoURL: the pages' <img> gets the logo as browsers read it (a
// base64 data: URL's line breaks and spaces dropped; a text's kept), and
// no URL of a scheme that is no image's, whatever the config held.
func TestLogoURL(t *testing.T) {
	for logo, want := range map[string]string{
		" data:image/png;base64,\n\tiVBOR w0K\r\nGgo= ": "data:image/png;base64,iVBORw0KGgo=",
		"DATA:image/png;BASE64, AA\nBB":                 "DATA:image/png;BASE64,AABB",
		"data:image/svg+xml,<svg a='1'\n b='2'/>":       "data:image/svg+xml,<svg a='1' b='2'/>",
		"/logo.png":                      "/logo.png",
		"http://localhost:8080/logo.png": "http://localhost:8080/logo.png",
		"javascript:alert(1)":            "",
		"java\nscript:alert(1)":          "",
	} {
		if got := string(logoURL(logo)); got != want {
			t.Errorf("logoURL(%q) = %q, want %q", logo, got, want)
		}
	}
}
