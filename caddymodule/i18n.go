package caddymodule

import (
	"embed"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// The pages speak English and, from a message catalogue, other languages,
// chosen by Accept-Language. A catalogue is a JSON object from each English
// text to its translation; numbers in a text are written {n}, so "Wrong
// code; 3 tries left." is found as "Wrong code; {n} tries left.". Admins
// add or override languages with messages_dir, one <lang>.json per
// language, without forking.

//go:embed i18n/*.json
var catalogueFS embed.FS

type catalogue map[string]map[string]string // language → English → text

func loadCatalogue(dir string) (catalogue, error) {
	cat := catalogue{}
	read := func(name string, raw []byte) error {
		lang := strings.ToLower(strings.TrimSuffix(filepath.Base(name), ".json"))
		var msgs map[string]string
		if err := json.Unmarshal(raw, &msgs); err != nil {
			return fmt.Errorf("message catalogue %s: %v", name, err)
		}
		if cat[lang] == nil {
			cat[lang] = map[string]string{}
		}
		for k, v := range msgs {
			cat[lang][k] = v
		}
		return nil
	}
	builtin, _ := catalogueFS.ReadDir("i18n")
	for _, e := range builtin {
		raw, _ := catalogueFS.ReadFile("i18n/" + e.Name())
		if err := read(e.Name(), raw); err != nil {
			return nil, err
		}
	}
	if dir != "" {
		files, err := filepath.Glob(filepath.Join(dir, "*.json"))
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			raw, err := os.ReadFile(f)
			if err != nil {
				return nil, err
			}
			if err := read(f, raw); err != nil {
				return nil, err
			}
		}
	}
	return cat, nil
}

// language picks the best language of the catalogue (or "en") for an
// Accept-Language header.
func (c catalogue) language(accept string) string {
	best, bestQ := "en", 0.0
	for _, part := range strings.Split(accept, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			_, _ = fmt.Sscan(v, &q)
		}
		lang, _, _ := strings.Cut(strings.ToLower(tag), "-")
		if _, ok := c[lang]; (ok || lang == "en") && q > bestQ {
			best, bestQ = lang, q
		}
	}
	return best
}

var numbers = regexp.MustCompile(`\d+`)

// translator returns the function pages call to translate a text.
func (c catalogue) translator(lang string) func(string) string {
	msgs := c[lang]
	return func(text string) string {
		if msgs == nil || text == "" {
			return text
		}
		if t, ok := msgs[text]; ok {
			return t
		}
		found := numbers.FindAllString(text, -1)
		if t, ok := msgs[numbers.ReplaceAllString(text, "{n}")]; ok && len(found) > 0 {
			for _, n := range found {
				t = strings.Replace(t, "{n}", n, 1)
			}
			return t
		}
		return text
	}
}
