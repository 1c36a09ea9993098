package words

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
)

// Plurals come from CLDR's rules (golang.org/x/text/feature/plural), not
// from a rule of our own: 1 is "one" in English, 0 and 1 are "one" in
// French, 2, 3, 4, 22… are "few" and 5…21, 25… "many" in Polish and
// Russian, and Russian's 21 is "one" again.

// formNames are CLDR's names of the plural categories, as catalogues
// write them after a message id (code.wrong.few).
var formNames = map[plural.Form]string{
	plural.Other: "other", plural.Zero: "zero", plural.One: "one",
	plural.Two: "two", plural.Few: "few", plural.Many: "many",
}

// Form is the CLDR plural category of the whole number n in lang: "one",
// "few", "many", "other"…
func (c *Catalogue) Form(lang string, n int) string {
	tag, ok := c.plurals[lang]
	if !ok {
		tag = language.Make(lang)
	}
	return formOf(tag, n)
}

func formOf(tag language.Tag, n int) string {
	if n < 0 {
		n = -n
	}
	return formNames[plural.Cardinal.MatchPlural(tag, n%10_000_000, 0, 0, 0, 0)]
}

// countForms caches each language's categories of whole numbers.
var countForms sync.Map // language.Tag → []string

// FormsOf lists the plural categories a whole number can take in tag,
// sorted: what a text with a count needs in that language ("one",
// "other" in English; "few", "many", "one" in Polish, whose "other" is
// for fractions only). CLDR's rules look at n modulo 100 and 1,000 at
// most, and at millions (French's "many" in later versions).
func FormsOf(tag language.Tag) []string {
	if v, ok := countForms.Load(tag); ok {
		return v.([]string)
	}
	var forms []string
	add := func(n int) {
		if f := formOf(tag, n); !slices.Contains(forms, f) {
			forms = append(forms, f)
		}
	}
	for n := range 1200 {
		add(n)
	}
	add(1_000_000)
	slices.Sort(forms)
	countForms.Store(tag, forms)
	return forms
}

// countIDs are the ids of texts with a count: those English says in
// its two forms, id.one and id.other (an id like invite.other is no form).
func countIDs(en map[string]string) map[string]bool {
	ids := map[string]bool{}
	for key := range en {
		if id, ok := strings.CutSuffix(key, ".other"); ok {
			if _, one := en[id+".one"]; one {
				ids[id] = true
			}
		}
	}
	return ids
}

// formOfKey splits a key into the id of a text with a count and its
// plural category (code.wrong.few → code.wrong, few).
func formOfKey(counts map[string]bool, key string) (string, string, bool) {
	i := strings.LastIndexByte(key, '.')
	if i < 0 || !counts[key[:i]] {
		return "", "", false
	}
	for _, name := range formNames {
		if key[i+1:] == name {
			return key[:i], name, true
		}
	}
	return "", "", false
}

// check refuses a catalogue that would say something wrong: a text with
// a count that lacks a category its language needs (a Polish catalogue
// with only .one and .other), or a text that names an argument its
// English text does not have (which would show as {typo}).
func (c *Catalogue) check() error {
	en := c.texts["en"]
	counts := countIDs(en)
	for _, lang := range c.Langs() {
		texts := c.texts[lang]
		has := map[string][]string{} // id → its plural categories in lang
		for key := range texts {
			if id, form, ok := formOfKey(counts, key); ok {
				has[id] = append(has[id], form)
			}
		}
		need := FormsOf(c.plurals[lang])
		for id, forms := range has {
			for _, f := range need {
				if !slices.Contains(forms, f) {
					return fmt.Errorf("message catalogue %s.json: %s has no %q form (%s needs %s)", lang, id, f, lang, strings.Join(need, ", "))
				}
			}
		}
		for key, text := range texts {
			said := placeholders(text)
			if len(said) == 0 {
				continue
			}
			allowed := placeholdersOf(en, counts, key)
			for _, p := range said {
				if !slices.Contains(allowed, p) {
					return fmt.Errorf("message catalogue %s.json: %q says {%s}, which it is not given (it is given %s)", lang, key, p, braces(allowed))
				}
			}
		}
	}
	return nil
}

// placeholdersOf lists the arguments key is given, as English says it:
// every form of its English text, or the English text that is the key.
func placeholdersOf(en map[string]string, counts map[string]bool, key string) []string {
	texts := []string{key, en[key]}
	if id, _, ok := formOfKey(counts, key); ok {
		texts = append(texts, en[id+".one"], en[id+".other"], "{n}")
	}
	var names []string
	for _, t := range texts {
		for _, p := range placeholders(t) {
			if !slices.Contains(names, p) {
				names = append(names, p)
			}
		}
	}
	return names
}

// placeholders are the names of the {name}s text says, as the placeholder
// expression finds them. It is what every process runs on every text when
// it loads the catalogues; the expression, under the race detector, took
// a tenth of a test Caddy's start.
func placeholders(text string) []string {
	var names []string
	for {
		open := strings.IndexByte(text, '{')
		if open < 0 {
			return names
		}
		text = text[open+1:]
		n := 0
		for n < len(text) && isWordByte(text[n]) {
			n++
		}
		if n > 0 && n < len(text) && text[n] == '}' {
			names = append(names, text[:n])
			text = text[n+1:]
		}
	}
}

// isWordByte is \w: an ASCII letter, digit or underscore.
func isWordByte(b byte) bool {
	return b == '_' || '0' <= b && b <= '9' || 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z'
}

func braces(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	var b []string
	for _, n := range names {
		b = append(b, "{"+n+"}")
	}
	return strings.Join(b, " ")
}
