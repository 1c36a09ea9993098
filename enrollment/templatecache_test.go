package enrollment

import (
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/words"
)

// BenchmarkSiteTemplates is what a gate's check does at every site's
// load (caddymodule's gate.templates), at its Caddyfile's adapting and
// again at its Provision: the message templates parsed and tried, then
// fitted to the site in every language of its words.
func BenchmarkSiteTemplates(b *testing.B) {
	for b.Loop() {
		tpl, err := ParseTemplates("", "")
		if err != nil {
			b.Fatal(err)
		}
		if err := tpl.Fit(words.English, "localhost", "localhost", 6); err != nil {
			b.Fatal(err)
		}
	}
}

// The default templates are parsed once and shared (a Templates never
// changes once made), an admin's own by their texts; a template that
// does not parse or never says the code is refused every time.
func TestTemplatesAreParsedOnce(t *testing.T) {
	t.Parallel()
	a, b := mustTemplates(t, "", ""), mustTemplates(t, DefaultSMSTemplate, DefaultVoiceTemplate)
	if a != b {
		t.Error("the default templates were parsed again")
	}
	own := "Code {{.Code}} for {{.Site}} (speed37)"
	c, d := mustTemplates(t, own, ""), mustTemplates(t, own, "")
	if c != d || c == a {
		t.Errorf("an admin's own template: shared %v, the defaults' %v", c == d, c == a)
	}
	for range 2 {
		if _, err := ParseTemplates("{{.Code", ""); err == nil {
			t.Error("a template that does not parse was taken")
		}
		if _, err := ParseTemplates("no code (speed37)", ""); err == nil || !strings.Contains(err.Error(), "never says the code") {
			t.Errorf("a template without the code: %v", err)
		}
	}
}

// Fit's answer is kept for the built-in words, by site, host and code
// length: a site too long to fit is refused after a short one fitted,
// and again after it was refused once; a site name whose English call
// fits and whose German call does not (250 characters) fits with no
// words (English only) and is refused with the built-in words, whichever
// was asked first.
func TestFitIsKeptBySite(t *testing.T) {
	t.Parallel()
	tpl := mustTemplates(t, "", "")
	long := strings.Repeat("a-very-long-site-name.", 12) + "example"
	for range 2 {
		if err := tpl.Fit(words.English, "example.com", "example.com", 6); err != nil {
			t.Fatalf("a short site does not fit: %v", err)
		}
		if err := tpl.Fit(words.English, long, "example.com", 6); err == nil {
			t.Fatal("a site name of 271 characters fitted")
		}
		if err := tpl.Fit(words.English, "example.com", "example.com", 200); err == nil {
			t.Fatal("a code of 200 digits fitted")
		}
	}
	for i, first := range []*words.Catalogue{nil, words.English} {
		site := strings.Repeat("b", 250)
		if i == 1 {
			site = strings.Repeat("c", 250)
		}
		for _, cat := range []*words.Catalogue{first, nil, words.English} {
			if err := tpl.Fit(cat, site, "example.com", 6); (err == nil) != (cat == nil) {
				t.Errorf("%d: a site of 250 characters with the words %p: %v", i, cat, err)
			}
		}
	}
}
