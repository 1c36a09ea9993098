package words

import (
	"embed"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/language"
)

// A Catalogue maps each language to its texts: message ids (code.wrong)
// and, for the pages' own words, the English text itself ("Send code").
// A text may hold {name} for an argument. A text with a count (the
// argument n) has a form for each of its language's plural categories,
// as CLDR defines them (plural.go): code.wrong.one and code.wrong.other in
// English, code.wrong.one, .few and .many in Polish.
type Catalogue struct {
	texts   map[string]map[string]string // language → id or English → text
	tags    []language.Tag               // English first
	matcher language.Matcher
	plurals map[string]language.Tag // language → the tag its plural rules are looked up by
}

//go:embed catalogue/*.json
var builtin embed.FS

// English is the built-in catalogue: what Error() says.
var English = mustLoad()

func mustLoad() *Catalogue {
	c, err := load("")
	if err != nil {
		panic(err)
	}
	return c
}

// Load reads the built-in catalogues and then dir's <lang>.json files (if
// dir is set; a dir without one is refused), which add languages or
// override texts. Without dir it is
// English, read once at start (a catalogue never changes once loaded):
// every gate's Provision asks for it.
func Load(dir string) (*Catalogue, error) {
	if dir == "" {
		return English, nil
	}
	return load(dir)
}

func load(dir string) (*Catalogue, error) {
	c := &Catalogue{texts: map[string]map[string]string{}}
	files, _ := builtin.ReadDir("catalogue")
	for _, f := range files {
		raw, _ := builtin.ReadFile("catalogue/" + f.Name())
		if err := c.add(f.Name(), raw); err != nil {
			return nil, err
		}
	}
	if dir != "" {
		names, err := filepath.Glob(filepath.Join(dir, "*.json"))
		if err != nil {
			return nil, err
		}
		if len(names) == 0 {
			// A folder misspelt, or not there on this machine: the
			// admin's texts would be missing, untold.
			return nil, fmt.Errorf("messages_dir %s: no *.json files", dir)
		}
		for _, name := range names {
			raw, err := os.ReadFile(name)
			if err != nil {
				return nil, err
			}
			if err := c.add(name, raw); err != nil {
				return nil, err
			}
		}
	}
	c.tags = []language.Tag{language.English}
	var langs []string
	for lang := range c.texts {
		if lang != "en" {
			langs = append(langs, lang)
		}
	}
	slices.Sort(langs)
	for _, lang := range langs {
		tag, err := language.Parse(lang)
		if err != nil {
			return nil, fmt.Errorf("message catalogue %s.json: %q is not a language tag", lang, lang)
		}
		c.tags = append(c.tags, tag)
	}
	c.matcher = language.NewMatcher(c.tags)
	c.plurals = map[string]language.Tag{}
	for i, lang := range append([]string{"en"}, langs...) {
		c.plurals[lang] = c.tags[i]
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Catalogue) add(name string, raw []byte) error {
	lang := strings.ToLower(strings.TrimSuffix(filepath.Base(name), ".json"))
	var texts map[string]string
	if err := json.Unmarshal(raw, &texts); err != nil {
		return fmt.Errorf("message catalogue %s: %v", name, err)
	}
	if c.texts[lang] == nil {
		c.texts[lang] = map[string]string{}
	}
	for k, v := range texts {
		c.texts[lang][k] = v
	}
	return nil
}

// Match picks the catalogue's best language for an Accept-Language header
// (English when nothing fits), as a key of the catalogue.
func (c *Catalogue) Match(acceptLanguage string) string {
	prefs, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(prefs) == 0 {
		return "en"
	}
	_, i, conf := c.matcher.Match(prefs...)
	if conf == language.No {
		return "en"
	}
	base, _ := c.tags[i].Base()
	if _, ok := c.texts[c.tags[i].String()]; ok {
		return c.tags[i].String()
	}
	return base.String()
}

// Langs are the catalogue's languages, English first.
func (c *Catalogue) Langs() []string {
	var langs []string
	for lang := range c.texts {
		if lang != "en" {
			langs = append(langs, lang)
		}
	}
	slices.Sort(langs)
	return append([]string{"en"}, langs...)
}

// T says one of the pages' own texts in lang: an English text ("Send
// code", "Remove {name}?") or an id, with its arguments as name, value
// pairs, as Newf takes them. A text lang lacks is said in English.
func (c *Catalogue) T(lang, key string, args ...any) string {
	return c.Render(lang, Text{ID: key, Args: pairs(args)})
}

// N marks an English text as a page's own words where it is written (a
// page title kept in a table), to be said with T where it is shown. It
// changes nothing: it tells readers, and the test that every page word
// has its translations, that s is words for people.
func N(s string) string { return s }

var placeholder = regexp.MustCompile(`\{(\w+)\}`)

// Render says t in lang, falling back to English, then to the id itself
// (a page's own English text is its id).
func (c *Catalogue) Render(lang string, t Text) string {
	tpl, ok := c.lookup(lang, t)
	if !ok {
		if tpl, ok = c.lookup("en", t); !ok {
			tpl = t.ID
		}
		lang = "en"
	}
	if !strings.Contains(tpl, "{") {
		return tpl
	}
	return placeholder.ReplaceAllStringFunc(tpl, func(p string) string {
		v, ok := t.Args[p[1:len(p)-1]]
		if !ok {
			return p
		}
		return c.value(lang, v)
	})
}

// lookup finds t's template in lang: with a count, the form of its
// plural category in lang (else the "other" form), else the plain id.
func (c *Catalogue) lookup(lang string, t Text) (string, bool) {
	texts := c.texts[lang]
	if n, ok := t.Args["n"].(int); ok {
		if tpl, ok := texts[t.ID+"."+c.Form(lang, n)]; ok {
			return tpl, true
		}
		if tpl, ok := texts[t.ID+".other"]; ok {
			return tpl, true
		}
	}
	tpl, ok := texts[t.ID]
	return tpl, ok
}

// Or joins items as a choice in lang: "a text message, an app or a
// passkey" (list.or and list.comma say how).
func (c *Catalogue) Or(lang string, items []string) string {
	if len(items) == 0 {
		return ""
	}
	list := items[0]
	for i, item := range items[1:] {
		id := "list.comma"
		if i == len(items)-2 {
			id = "list.or"
		}
		list = c.Render(lang, Text{ID: id, Args: map[string]any{"a": list, "b": item}})
	}
	return list
}

// value says an argument: a Wait in the language's units, a Text
// rendered, anything else as it prints.
func (c *Catalogue) value(lang string, v any) string {
	switch v := v.(type) {
	case Wait:
		return c.wait(lang, time.Duration(v))
	case Text:
		return c.Render(lang, v)
	case int:
		return strconv.Itoa(v)
	case string:
		return v
	}
	return fmt.Sprint(v)
}

// wait says a duration rounded up to its largest unit: "2 hours",
// "5 minutes", "30 seconds".
func (c *Catalogue) wait(lang string, d time.Duration) string {
	var n int
	var unit string
	switch {
	case d > time.Hour:
		n, unit = int((d+time.Hour-1)/time.Hour), "unit.hours"
	case d > time.Minute:
		n, unit = int((d+time.Minute-1)/time.Minute), "unit.minutes"
	default:
		n, unit = max(int((d+time.Second-1)/time.Second), 1), "unit.seconds"
	}
	return c.Render(lang, Text{ID: unit, Args: map[string]any{"n": n}})
}
