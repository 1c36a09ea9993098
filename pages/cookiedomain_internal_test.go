package pages

import "testing"

// TestACookieDomainCoversASiteInAnotherScript: cookie_domain is taken in
// its xn-- form; a site_origin written in Unicode is compared in the same
// form (before: "cookie_domain xn--bcher-kva.example does not cover this
// site (bücher.example)").
func TestACookieDomainCoversASiteInAnotherScript(t *testing.T) {
	for _, origin := range []string{"https://bücher.example", "https://app.bücher.example", "https://xn--bcher-kva.example"} {
		if err := CheckCookieDomain("xn--bcher-kva.example", origin); err != nil {
			t.Errorf("%s: %v", origin, err)
		}
	}
	if err := CheckCookieDomain("xn--bcher-kva.example", "https://other.example"); err == nil {
		t.Error("a cookie_domain that does not cover the site was taken")
	}
}
