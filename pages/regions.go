package pages

import (
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

// regionLists caches each language's list of countries.
var regionLists sync.Map // lang + "|" + allowed → []regionOption

// regions lists the countries a number may come from, named in lang, with
// selected chosen.
func (p *Pages) regions(lang, selected string) []regionOption {
	key := lang + "|" + strings.Join(p.AllowedRegions, ",")
	cached, ok := regionLists.Load(key)
	if !ok {
		codes := p.AllowedRegions
		if len(codes) == 0 {
			for r := range phonenumbers.GetSupportedRegions() {
				codes = append(codes, r)
			}
		}
		tag := language.Make(lang)
		namer := display.Regions(tag)
		var list []regionOption
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
			list = append(list, regionOption{Code: code, Name: name, Example: phone.Example(code)})
		}
		col := collate.New(tag)
		slices.SortFunc(list, func(a, b regionOption) int { return col.CompareString(a.Name, b.Name) })
		cached, _ = regionLists.LoadOrStore(key, list)
	}
	list := slices.Clone(cached.([]regionOption))
	for i := range list {
		list[i].Selected = list[i].Code == selected
	}
	return list
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
