package pages_test

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

func TestLanguagesAndBranding(t *testing.T) {
	sitetest.Parallel(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "fr.json"), []byte(`{"Send code": "Envoyer le code", "Add your phone": "Ajoutez votre téléphone"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	// An admin's template redefines the sign-out page, and only it.
	tpl := t.TempDir()
	if err := os.WriteFile(filepath.Join(tpl, "mine.html"), []byte(`{{define "signed_out"}}<p>Bye from Example Wiki.</p>{{end}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	s := sitetest.Basic(t, "site_name \"Example Wiki\"\n\t\taccent 0a7d32\n\t\tlogo /logo.svg\n\t\tallowed_regions GB\n\t\tmessages_dir "+dir+"\n\t\ttemplates_dir "+tpl)
	c := sitetest.NewClient(t, "alice")
	get := func(path, lang string) *sitetest.Response {
		req, _ := http.NewRequest(http.MethodGet, s.Base+path, nil)
		req.Header.Set("Accept-Language", lang)
		return c.Do(req)
	}
	page := get("/.smsgate/enroll", "de-DE,de;q=0.9,en;q=0.5")
	for _, want := range []string{`<html lang="de">`, "Telefon hinzufügen", "Code senden", "Example Wiki", `src="/logo.svg"`, "&#43;44 7400 123456"} {
		sitetest.ExpectBody(t, page, want)
	}
	if page.Header.Get("Content-Language") != "de" {
		t.Fatalf("Content-Language %q", page.Header.Get("Content-Language"))
	}
	sitetest.ExpectBody(t, get("/.smsgate/enroll", "fr;q=0.8, de;q=0.2"), "Ajoutez votre téléphone") // an admin's catalogue
	sitetest.ExpectBody(t, get("/.smsgate/enroll", "ja"), "Add your phone")                          // no Japanese: English

	// Messages with numbers are translated too.
	tok := sitetest.CSRFField.FindStringSubmatch(page.Text)[1]
	c.Post("/.smsgate/enroll", url.Values{"phone": {"+447400123456"}, "csrf": {tok}})
	wrong := sitetest.WrongCode(s.LastCode())
	req, _ := http.NewRequest(http.MethodPost, s.Base+"/.smsgate/verify", strings.NewReader(url.Values{"code": {wrong}, "csrf": {tok}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept-Language", "de")
	res := c.Do(req)
	sitetest.ExpectBody(t, res, "Falscher Code. Sie haben noch 4 Versuche.")

	// The CSP allows no inline script or style; the assets are served.
	csp := page.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Fatalf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(page.Text, "<style") || strings.Contains(page.Text, "style=") || strings.Contains(page.Text, "<script>") {
		t.Fatal("inline style or script")
	}
	brand := c.Get("/.smsgate/assets/brand.css")
	sitetest.ExpectBody(t, brand, "--accent: #0a7d32")
	js := c.Get("/.smsgate/assets/smsgate.js")
	if js.StatusCode != 200 || !strings.HasPrefix(js.Header.Get("Content-Type"), "text/javascript") {
		t.Fatalf("script: %d %s", js.StatusCode, js.Header.Get("Content-Type"))
	}
	sitetest.Expect(t, c.Get("/.smsgate/assets/../../etc/passwd"), http.StatusNotFound, "")
	sitetest.Expect(t, c.Get("/.smsgate/assets/other.js"), http.StatusNotFound, "")

	out := c.Get("/.smsgate/logout")
	otok := sitetest.CSRFField.FindStringSubmatch(out.Text)[1]
	sitetest.ExpectBody(t, c.Post("/.smsgate/logout", url.Values{"csrf": {otok}}), "Bye from Example Wiki.")
}
