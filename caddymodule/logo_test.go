package caddymodule_test

import (
	"net/url"
	"testing"
)

// TestALogoThePagesCannotShowIsRefused: a logo the pages' CSP would block
// (http:, javascript:, another host without https) is refused at its line,
// saying what is allowed. Before, it loaded, and every page showed a
// broken image (the browser blocked it and said so only in its console).
func TestALogoThePagesCannotShowIsRefused(t *testing.T) {
	t.Parallel()
	const want = "the pages' Content-Security-Policy shows only a path on this site (/logo.png), an https URL (its host is added to img-src) or a data:image/ URL"
	for _, logo := range []string{"http://cdn.example.com/logo.png", "javascript:alert(1)", "//cdn.example.com/logo.png", "data:text/html,hi"} {
		t.Run(url.PathEscape(logo), func(t *testing.T) {
			t.Parallel()
			refusedFromBoth(t, "logo "+logo, `"logo": "`+logo+`"`, "Caddyfile:11", want, want)
		})
	}
}
