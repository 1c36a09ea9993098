package caddymodule_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestALogoThePagesCannotShowIsRefused: a logo the pages' CSP would block
// (http:, javascript:, another host without https) is refused at its line,
// saying what is allowed. Before, it loaded, and every page showed a
// broken image (the browser blocked it and said so only in its console).
func TestALogoThePagesCannotShowIsRefused(t *testing.T) {
	t.Parallel()
	const want = "the pages' Content-Security-Policy shows only a path on this site (/logo.png), a URL of the site's own origin, an https URL (its host is added to img-src) or a data:image/ URL"
	for _, logo := range []string{"http://cdn.example.com/logo.png", "javascript:alert(1)", "//cdn.example.com/logo.png", `/\cdn.example.com/logo.png`, "data:text/html,hi"} {
		t.Run(url.PathEscape(logo), func(t *testing.T) {
			t.Parallel()
			refusedFromBoth(t, "logo "+logo, `"logo": "`+strings.ReplaceAll(logo, `\`, `\\`)+`"`, "Caddyfile:11", want, want)
		})
	}
}

// TestALogoThePagesCanShowLoads: a logo the pages' CSP shows loads, and
// the pages show it. A URL of the site's own origin (an http one on a
// localhost site: 'self') and a data:image/ URL wrapped in a heredoc
// (its base64 on several lines, as an editor wraps it) were refused since
// the CSP check; and a data: logo never showed: html/template wrote
// #ZgotmplZ for it (a scheme other than http, https, mailto). Another
// origin of the same host (another port) is still refused, at its line.
func TestALogoThePagesCanShowLoads(t *testing.T) {
	sitetest.Parallel(t)
	const png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
	for _, tc := range []struct{ option, src string }{
		{"logo http://localhost:{HTTP_PORT}/logo.png", "http://localhost:{HTTP_PORT}/logo.png"},
		{"logo <<EOF\n\t\t\tdata:image/png;base64,\n\t\t\t" + png[:40] + "\n\t\t\t" + png[40:60] + " " + png[60:] + "\n\t\t\tEOF", "data:image/png;base64," + png},
	} {
		t.Run(tc.src[:5], func(t *testing.T) {
			s := sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		user carol +14155552671
		store badger {DIR}
		provider log
		`+tc.option+`
	}
	respond "Hello"
}`)
			page := sitetest.NewClient(t, "").Get("/.smsgate/login")
			sitetest.Expect(t, page, http.StatusOK, "")
			if want := `<img class="logo" src="` + strings.ReplaceAll(s.WithPorts(tc.src), "+", "&#43;") + `"`; !strings.Contains(page.Text, want) {
				t.Fatalf("the login page shows no %s: %s", want, regexp.MustCompile(`<img[^>]*>`).FindString(page.Text))
			}
			if csp := page.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'self' data:;") {
				t.Fatalf("CSP: %s", csp)
			}
		})
	}
	t.Run("another origin", func(t *testing.T) {
		refusedFromBoth(t, "logo http://localhost:1/logo.png", `"logo": "http://localhost:1/logo.png", "site_origin": "http://localhost:{HTTP_PORT}"`, "Caddyfile:11", "the pages' Content-Security-Policy shows only", "the pages' Content-Security-Policy shows only")
	})
}
