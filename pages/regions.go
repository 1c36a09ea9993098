package pages

import (
	"html/template"
	"slices"
	"strings"
	"sync"

	"github.com/nyaruka/phonenumbers"
	"github.com/smsgate/caddy-smsgate/phone"
	"golang.org/x/text/collate"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// The country picker: the policy's allowed regions (all, if none are
// set), named in the reader's language, each with an example mobile
// number, so that people type numbers as they know them (national form).

// regionOption is one country of the picker.
type regionOption struct {
	Code, Name, Example string
	Selected            bool
}

// regionLists caches each language's list of countries, and its options
// rendered.
var regionLists sync.Map // lang + "|" + allowed → *regionList

// regionList is one language's countries, and their <option> elements as
// the built-in templates render them (opts: without the example number,
// the login page's; withExample: with it), each written once: rendering
// the ~240 options on every page was most of a page's time.
type regionList struct {
	list              []regionOption
	opts, withExample []string
	// chosen is list with each country chosen, made on first use (code →
	// []regionOption): at most one copy per country, shared by every page.
	chosen sync.Map
}

// regions lists the countries a number may come from, named in lang, with
// selected chosen. The list is shared by every page that chooses the same
// country (no copy per page): read it only (a template cannot write it).
func (p *Pages) regions(lang, selected string) []regionOption {
	rl := p.regionList(lang)
	if cached, ok := rl.chosen.Load(selected); ok {
		return cached.([]regionOption)
	}
	if !slices.ContainsFunc(rl.list, func(o regionOption) bool { return o.Code == selected }) {
		return rl.list // none chosen; and no copy for a code that is no country of the list
	}
	list := slices.Clone(rl.list)
	for i := range list {
		list[i].Selected = list[i].Code == selected
	}
	cached, _ := rl.chosen.LoadOrStore(selected, list)
	return cached.([]regionOption)
}

// regionOptions are the picker's <option> elements, in lang, with selected
// chosen, and each option's example number where withExample: what the
// built-in templates' loop over regions wrote, byte for byte
// (TestRegionOptionsAreTheLoopsOutput).
func (p *Pages) regionOptions(lang, selected string, withExample bool) template.HTML {
	rl := p.regionList(lang)
	opts := rl.opts
	if withExample {
		opts = rl.withExample
	}
	var b strings.Builder
	for i, o := range opts {
		if rl.list[i].Code == selected {
			end := strings.IndexByte(o, '>') // the start tag's: its values are escaped
			b.WriteString(o[:end])
			b.WriteString(" selected")
			o = o[end:]
		}
		b.WriteString(o)
	}
	return template.HTML(b.String()) // rendered by html/template: optionTemplate
}

// optionTemplate renders one option of the picker (without and with its
// example number), as the built-in templates did within their <select>.
var optionTemplate = template.Must(template.New("option").Parse(
	`{{define "plain"}}<option value="{{.Code}}">{{.Name}}</option>{{end}}` +
		`{{define "example"}}<option value="{{.Code}}" data-example="{{.Example}}">{{.Name}}</option>{{end}}`))

// regionList is lang's list of countries, made and rendered on first use.
func (p *Pages) regionList(lang string) *regionList {
	key := lang + "|" + strings.Join(p.AllowedRegions, ",")
	if cached, ok := regionLists.Load(key); ok {
		return cached.(*regionList)
	}
	codes := p.AllowedRegions
	if len(codes) == 0 {
		for r := range phonenumbers.GetSupportedRegions() {
			codes = append(codes, r)
		}
	}
	tag := language.Make(lang)
	namer := display.Regions(tag)
	rl := &regionList{}
	for _, code := range codes {
		code = strings.ToUpper(code)
		if code == phone.NonGeographic {
			continue
		}
		r, err := language.ParseRegion(code)
		name := code
		if err == nil && namer.Name(r) != "" {
			name = namer.Name(r)
		}
		rl.list = append(rl.list, regionOption{Code: code, Name: name, Example: phone.Example(code)})
	}
	col := collate.New(tag)
	slices.SortFunc(rl.list, func(a, b regionOption) int { return col.CompareString(a.Name, b.Name) })
	var b strings.Builder
	for _, o := range rl.list {
		for _, name := range []string{"plain", "example"} {
			b.Reset()
			if err := optionTemplate.ExecuteTemplate(&b, name, o); err != nil {
				panic(err) // a fixed template of strings
			}
			if name == "plain" {
				rl.opts = append(rl.opts, b.String())
			} else {
				rl.withExample = append(rl.withExample, b.String())
			}
		}
	}
	cached, _ := regionLists.LoadOrStore(key, rl)
	return cached.(*regionList)
}

// presetRegion is the country the picker starts on: the one chosen
// before, else default_region, else the browser's, else the first allowed.
func (p *Pages) presetRegion(chosen, acceptLanguage string) string {
	allowed := func(r string) bool {
		return r != "" && (len(p.AllowedRegions) == 0 || slices.ContainsFunc(p.AllowedRegions, func(a string) bool { return strings.EqualFold(a, r) })) &&
			phonenumbers.GetSupportedRegions()[r]
	}
	if r := strings.ToUpper(chosen); allowed(r) {
		return r
	}
	if allowed(p.DefaultRegion) {
		return p.DefaultRegion
	}
	if tags, _, err := language.ParseAcceptLanguage(acceptLanguage); err == nil {
		for _, t := range tags {
			if r, conf := t.Region(); conf != language.No && allowed(r.String()) {
				return r.String()
			}
		}
	}
	if len(p.AllowedRegions) > 0 {
		return strings.ToUpper(p.AllowedRegions[0])
	}
	return "US"
}
