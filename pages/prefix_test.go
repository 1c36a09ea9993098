package pages_test

import (
	"bytes"
	"html"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/pages"
)

// chromiumEscapes are the printable ASCII bytes Chromium escapes in a
// link's path (measured: new URL(...).pathname in headless Chromium), so
// that the path it sends is no longer the prefix the gate compares and
// the cookies are scoped to.
const chromiumEscapes = " \"<>`{}|^"

// TestAPrefixSurvivesTheRoundTrip: the pages write path_prefix as written
// into their links (html/template, read as a browser reads the attribute), redirects and cookies' Path, and the
// gate compares it with the path Go decodes from the browser's request.
// A prefix the gate takes must come back unchanged each way, or its own
// pages cannot be reached by their links: /%2esmsgate/ is /.smsgate/ once
// decoded, a space or a letter beyond ASCII is escaped by the link (and
// then no cookie's Path matches), a ; is dropped from a cookie's Path, and
// a . or .. segment is resolved away by the browser. Before, ValidPrefix
// took all of these.
func TestAPrefixSurvivesTheRoundTrip(t *testing.T) {
	link := template.Must(template.New("").Parse(`<a href="{{.}}login">`))
	survives := func(p string) string {
		if u, err := url.ParseRequestURI(p + "login"); err != nil || u.Path != p+"login" {
			return "Go decodes the request's path otherwise"
		}
		var b bytes.Buffer
		if err := link.Execute(&b, p); err != nil || html.UnescapeString(b.String()) != `<a href="`+p+`login">` {
			return "its link is written otherwise: " + b.String()
		}
		if c := (&http.Cookie{Name: "n", Value: "v", Path: p}).String(); !strings.Contains(c, "; Path="+p+";") && !strings.HasSuffix(c, "; Path="+p) {
			return "its cookies' Path is written otherwise: " + c
		}
		if strings.ContainsAny(p, chromiumEscapes) {
			return "Chromium escapes it in a link"
		}
		for _, seg := range strings.Split(p, "/") {
			if seg == "." || seg == ".." {
				return "a browser resolves its dot segments"
			}
		}
		return ""
	}
	var candidates []string
	for c := 0; c < 0x80; c++ {
		candidates = append(candidates, "/a"+string(rune(c))+"b/")
	}
	candidates = append(candidates, "/%2esmsgate/", "/a%20b/", "/é/", "/./", "/../", "/a/./b/", "/a/../b/", "/.smsgate/", "/admin/.smsgate/", "/a.../")
	for _, p := range candidates {
		if !pages.ValidPrefix(p) {
			continue
		}
		if why := survives(p); why != "" {
			t.Errorf("ValidPrefix(%q) = true, but %s", p, why)
		}
	}
	for _, p := range []string{"/%2esmsgate/", "/a%20b/", "/a b/", "/é/", "/a;b/", "/a'b/", "/a/./b/", "/a/../b/", "/../", "/a//b/"} {
		if pages.ValidPrefix(p) {
			t.Errorf("ValidPrefix(%q) = true", p)
		}
	}
	for _, p := range []string{pages.DefaultPrefix, "/admin/.smsgate/", "/.auth/", "/a-b_c~d!$&*+,=:@/", "/a.../", "/v1.2/"} {
		if !pages.ValidPrefix(p) {
			t.Errorf("ValidPrefix(%q) = false", p)
		} else if why := survives(p); why != "" {
			t.Errorf("%q: %s", p, why)
		}
	}
}
