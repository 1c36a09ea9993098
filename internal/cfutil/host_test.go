package cfutil

import (
	"net/url"
	"testing"
)

// TestASCIIHost: the one conversion of a host to its xn-- form, and back
// for people; a name IDNA refuses stays as written (not ASCII), and an
// origin with one is none (Origin).
func TestASCIIHost(t *testing.T) {
	for host, want := range map[string]string{
		"bücher.example":        "xn--bcher-kva.example",
		"app.example.com":       "app.example.com",
		"xn--bcher-kva.example": "xn--bcher-kva.example",
		"a\u200db.example":      "a\u200db.example", // a joiner IDNA refuses here
	} {
		if got := ASCIIHost(host); got != want {
			t.Errorf("ASCIIHost(%q) = %q, want %q", host, got, want)
		}
	}
	if got := UnicodeHost("xn--bcher-kva.example"); got != "bücher.example" {
		t.Errorf("UnicodeHost: %q", got)
	}
	if got := Origin(&url.URL{Scheme: "https", Host: "a\u200db.example"}); got != "" {
		t.Errorf("an origin IDNA refuses: %q", got)
	}
	if got := Origin(&url.URL{Scheme: "https", Host: "Bücher.example:8443"}); got != "https://xn--bcher-kva.example:8443" {
		t.Errorf("Origin: %q", got)
	}
}
