package pages

import (
	"bytes"
	"html/template"
	"strings"
	"testing"
)

// TestRegionOptionsAreTheLoopsOutput: the country picker's options,
// rendered once per language (regionOptions), make the pages byte for
// byte what the built-in templates made when they looped over .Regions on
// every page (they still may: an admin's template that does is served the
// same list): the login, enroll and devices pages, in several languages
// and alphabets, with all countries or a few allowed, none or one chosen.
func TestRegionOptionsAreTheLoopsOutput(t *testing.T) {
	t.Parallel()
	raw, err := templateFS.ReadFile("templates/page.html")
	if err != nil {
		t.Fatal(err)
	}
	src := string(raw)
	if n := strings.Count(src, "{{.RegionOptions}}"); n != 3 {
		t.Fatalf("page.html has %d {{.RegionOptions}}, want 3 (login, enroll, devices)", n)
	}
	// The loops, as page.html had them: the login page's first.
	loop := `{{range .Regions}}<option value="{{.Code}}"{{if .Selected}} selected{{end}}>{{.Name}}</option>{{end}}`
	src = strings.Replace(src, "{{.RegionOptions}}", loop, 1)
	src = strings.ReplaceAll(src, "{{.RegionOptions}}",
		`{{range .Regions}}<option value="{{.Code}}" data-example="{{.Example}}"{{if .Selected}} selected{{end}}>{{.Name}}</option>{{end}}`)
	looped := template.Must(template.ParseFS(templateFS, "templates/*.html"))
	looped = template.Must(looped.New("page.html").Parse(src))
	rendered := template.Must(template.ParseFS(templateFS, "templates/*.html"))

	for _, c := range []struct {
		allowed        []string
		lang, selected string
	}{
		{nil, "en", "DE"}, {nil, "ja", ""}, {nil, "ar", "US"}, {[]string{"gb", "US", "DE", "FR"}, "de", "GB"}, {[]string{"US", "CA"}, "fr", ""},
	} {
		p := &Pages{Config: Config{AllowedRegions: c.allowed}}
		for _, step := range []string{"login", "enroll", "devices"} {
			v := view{Step: step, Lang: c.lang, T: func(key string, _ ...any) string { return key },
				Regions: p.regions(c.lang, c.selected), RegionOptions: p.regionOptions(c.lang, c.selected, step != "login")}
			var want, got bytes.Buffer
			if err := looped.ExecuteTemplate(&want, "page", v); err != nil {
				t.Fatal(err)
			}
			if err := rendered.ExecuteTemplate(&got, "page", v); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(want.String(), "<option") {
				t.Fatalf("%s, %s: no options rendered", step, c.lang)
			}
			if g, w := got.String(), want.String(); g != w {
				i := 0
				for i < len(g) && i < len(w) && g[i] == w[i] {
					i++
				}
				from := max(i-80, 0)
				t.Errorf("%s in %s, allowed %v, %q chosen: the rendered options differ from the loop's at byte %d\n got: …%.160s\nwant: …%.160s",
					step, c.lang, c.allowed, c.selected, i, g[from:], w[from:])
			}
		}
	}
}

// TestPagesShareTheCountryList: the countries a page lists (.Regions) are
// the list made once for its language and chosen country, not a copy per
// page (a page copied all ~240 before), and choosing another country, or
// none, leaves a list already given out as it was.
func TestPagesShareTheCountryList(t *testing.T) {
	t.Parallel()
	p := &Pages{Config: Config{AllowedRegions: []string{"US", "DE", "FR"}}}
	chosen := func(list []regionOption) (codes []string) {
		for _, o := range list {
			if o.Selected {
				codes = append(codes, o.Code)
			}
		}
		return codes
	}
	de := p.regions("en", "DE")
	if again := p.regions("en", "DE"); &again[0] != &de[0] {
		t.Error("a second page choosing the same country got a copy of the list")
	}
	fr, none, unknown := p.regions("en", "FR"), p.regions("en", ""), p.regions("en", "ZZ")
	if &none[0] != &unknown[0] {
		t.Error("a page choosing no country of the list got a copy of it")
	}
	for _, c := range []struct {
		list []regionOption
		want string
	}{{de, "DE"}, {fr, "FR"}, {none, ""}, {unknown, ""}} {
		if got := strings.Join(chosen(c.list), ","); got != c.want || len(c.list) != 3 {
			t.Errorf("the list for %q: %d countries, %q chosen", c.want, len(c.list), got)
		}
	}
}
