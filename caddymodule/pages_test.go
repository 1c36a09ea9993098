package caddymodule_test

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLanguagesAndBranding(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "fr.json"), []byte(`{"Send code": "Envoyer le code", "Add your phone": "Ajoutez votre téléphone"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	// An admin's template redefines the sign-out page, and only it.
	tpl := t.TempDir()
	if err := os.WriteFile(filepath.Join(tpl, "mine.html"), []byte(`{{define "signed_out"}}<p>Bye from Example Wiki.</p>{{end}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	s := basicSite(t, "site_name \"Example Wiki\"\n\t\taccent 0a7d32\n\t\tlogo /logo.svg\n\t\tallowed_regions GB\n\t\tmessages_dir "+dir+"\n\t\ttemplates_dir "+tpl)
	c := newClient(t, "alice")
	get := func(path, lang string) *response {
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		req.Header.Set("Accept-Language", lang)
		return c.do(req)
	}
	page := get("/.smsgate/enroll", "de-DE,de;q=0.9,en;q=0.5")
	for _, want := range []string{`<html lang="de">`, "Telefon hinzufügen", "Code senden", "Example Wiki", `src="/logo.svg"`, "&#43;44 7400 123456"} {
		expectBody(t, page, want)
	}
	if page.Header.Get("Content-Language") != "de" {
		t.Fatalf("Content-Language %q", page.Header.Get("Content-Language"))
	}
	expectBody(t, get("/.smsgate/enroll", "fr;q=0.8, de;q=0.2"), "Ajoutez votre téléphone") // an admin's catalogue
	expectBody(t, get("/.smsgate/enroll", "ja"), "Add your phone")                          // no Japanese: English

	// Messages with numbers are translated too.
	tok := csrfField.FindStringSubmatch(page.body)[1]
	c.post("/.smsgate/enroll", url.Values{"phone": {"+447400123456"}, "csrf": {tok}})
	req, _ := http.NewRequest(http.MethodPost, base+"/.smsgate/verify", strings.NewReader(url.Values{"code": {"000000"}, "csrf": {tok}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept-Language", "de")
	res := c.do(req)
	if s.lastCode() == "000000" {
		t.Skip("the code happens to be 000000")
	}
	expectBody(t, res, "Falscher Code. Sie haben noch 4 Versuche.")

	// The CSP allows no inline script or style; the assets are served.
	csp := page.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Fatalf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(page.body, "<style") || strings.Contains(page.body, "style=") || strings.Contains(page.body, "<script>") {
		t.Fatal("inline style or script")
	}
	brand := c.get("/.smsgate/assets/brand.css")
	expectBody(t, brand, "--accent: #0a7d32")
	js := c.get("/.smsgate/assets/smsgate.js")
	if js.StatusCode != 200 || !strings.HasPrefix(js.Header.Get("Content-Type"), "text/javascript") {
		t.Fatalf("script: %d %s", js.StatusCode, js.Header.Get("Content-Type"))
	}
	expect(t, c.get("/.smsgate/assets/../../etc/passwd"), http.StatusNotFound, "")
	expect(t, c.get("/.smsgate/assets/other.js"), http.StatusNotFound, "")

	out := c.get("/.smsgate/logout")
	otok := csrfField.FindStringSubmatch(out.body)[1]
	expectBody(t, c.post("/.smsgate/logout", url.Values{"csrf": {otok}}), "Bye from Example Wiki.")
}
