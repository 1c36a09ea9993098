package words

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/language"
)

// The categories come from CLDR, so languages whose rules differ from
// English get them right: the rule this replaced (1 is "one", anything
// else "other") was wrong for all three below.
func TestPluralCategoriesAreCLDRs(t *testing.T) {
	c := English
	for _, tc := range []struct {
		lang string
		want map[int]string
	}{
		{"en", map[int]string{0: "other", 1: "one", 2: "other", 21: "other"}},
		{"de", map[int]string{0: "other", 1: "one", 2: "other"}},
		{"fr", map[int]string{0: "one", 1: "one", 2: "other", 100: "other"}},
		{"pl", map[int]string{0: "many", 1: "one", 2: "few", 4: "few", 5: "many", 12: "many", 21: "many", 22: "few", 25: "many", 102: "few", 112: "many"}},
		{"ru", map[int]string{0: "many", 1: "one", 2: "few", 5: "many", 11: "many", 21: "one", 22: "few", 111: "many", 121: "one"}},
	} {
		for n, want := range tc.want {
			if got := c.Form(tc.lang, n); got != want {
				t.Errorf("%s: %d is %q, want %q", tc.lang, n, got, want)
			}
		}
	}
	for lang, want := range map[string]string{"en": "one other", "de": "one other", "fr": "one other", "pl": "few many one", "ru": "few many one", "ar": "few many one other two zero", "ja": "other"} {
		if got := strings.Join(FormsOf(language.Make(lang)), " "); got != want {
			t.Errorf("FormsOf(%s) = %q, want %q", lang, got, want)
		}
	}
}

// An admin's own catalogue in a language with other rules: each count is
// said in its category's form, units included.
func TestAnAdminsCatalogueWithOtherPluralRules(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "pl.json", `{
		"code.wrong.one": "Zły kod; została {n} próba.",
		"code.wrong.few": "Zły kod; zostały {n} próby.",
		"code.wrong.many": "Zły kod; zostało {n} prób.",
		"code.locked": "Za dużo błędnych kodów; logowanie zablokowane na {wait}.",
		"unit.minutes.one": "{n} minutę", "unit.minutes.few": "{n} minuty", "unit.minutes.many": "{n} minut"}`)
	write(t, dir, "ru.json", `{
		"code.wrong.one": "Неверный код; осталась {n} попытка.",
		"code.wrong.few": "Неверный код; осталось {n} попытки.",
		"code.wrong.many": "Неверный код; осталось {n} попыток."}`)
	write(t, dir, "fr.json", `{
		"code.wrong.one": "Code erroné ; il reste {n} essai.",
		"code.wrong.other": "Code erroné ; il reste {n} essais."}`)
	c, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	wrong := func(n int) Text { return Text{ID: "code.wrong", Args: map[string]any{"n": n}} }
	for _, tc := range []struct {
		lang string
		text Text
		want string
	}{
		{"pl", wrong(1), "Zły kod; została 1 próba."},
		{"pl", wrong(2), "Zły kod; zostały 2 próby."},
		{"pl", wrong(5), "Zły kod; zostało 5 prób."},
		{"pl", wrong(22), "Zły kod; zostały 22 próby."},
		{"pl", wrong(0), "Zły kod; zostało 0 prób."},
		{"pl", Text{ID: "code.locked", Args: map[string]any{"wait": Wait(3 * time.Minute)}}, "Za dużo błędnych kodów; logowanie zablokowane na 3 minuty."},
		{"pl", Text{ID: "code.locked", Args: map[string]any{"wait": Wait(15 * time.Minute)}}, "Za dużo błędnych kodów; logowanie zablokowane na 15 minut."},
		{"ru", wrong(1), "Неверный код; осталась 1 попытка."},
		{"ru", wrong(3), "Неверный код; осталось 3 попытки."},
		{"ru", wrong(11), "Неверный код; осталось 11 попыток."},
		{"ru", wrong(21), "Неверный код; осталась 21 попытка."},
		{"fr", wrong(0), "Code erroné ; il reste 0 essai."},
		{"fr", wrong(1), "Code erroné ; il reste 1 essai."},
		{"fr", wrong(4), "Code erroné ; il reste 4 essais."},
		{"en", wrong(0), "Wrong code; 0 tries left."},
		{"ru", Text{ID: "code.expired"}, "This code has expired; request a new one."}, // not translated: English
	} {
		if got := c.Render(tc.lang, tc.text); got != tc.want {
			t.Errorf("Render(%s, %v) = %q, want %q", tc.lang, tc.text.Args, got, tc.want)
		}
	}
	if got := c.Match("pl-PL,pl;q=0.9"); got != "pl" {
		t.Errorf("Match(pl-PL) = %q", got)
	}
}

// A catalogue that would say something wrong does not load, and says why.
func TestACatalogueThatWouldSaySomethingWrong(t *testing.T) {
	for name, tc := range map[string]struct{ file, text, want string }{
		"Polish with English's forms": {"pl.json", `{"code.wrong.one": "{n}", "code.wrong.other": "{n}"}`, `pl.json: code.wrong has no "few" form (pl needs few, many, one)`},
		"a form missing in German":    {"de.json", `{"verify.trust.one": "{n} Tag"}`, ""}, // the built-in "other" is still there
		"an argument it is not given": {"de.json", `{"code.expired": "Abgelaufen seit {wait}."}`, `de.json: "code.expired" says {wait}, which it is not given (it is given none)`},
		"a typo in an argument":       {"nl.json", `{"code.locked": "Geblokkeerd voor {wiat}."}`, `nl.json: "code.locked" says {wiat}, which it is not given (it is given {wait})`},
		"a page's own words":          {"nl.json", `{"We sent a code to {phone}.": "We stuurden een code naar {nummer}."}`, `says {nummer}, which it is not given (it is given {phone})`},
		"an id ending like a form":    {"nl.json", `{"invite.other": "Deze uitnodiging is voor een ander account."}`, ""},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, tc.file, tc.text)
			_, err := Load(dir)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("Load = %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

func TestOrJoinsAChoice(t *testing.T) {
	for _, tc := range []struct {
		lang  string
		items []string
		want  string
	}{
		{"en", []string{"a passkey"}, "a passkey"},
		{"en", []string{"an app", "a passkey"}, "an app or a passkey"},
		{"en", []string{"a text", "an app", "a passkey"}, "a text, an app or a passkey"},
		{"de", []string{"einer SMS", "einer App", "einem Passkey"}, "einer SMS, einer App oder einem Passkey"},
	} {
		if got := English.Or(tc.lang, tc.items); got != tc.want {
			t.Errorf("Or(%s, %q) = %q, want %q", tc.lang, tc.items, got, tc.want)
		}
	}
}

func TestTSaysPageWords(t *testing.T) {
	c := English
	for _, tc := range []struct {
		lang, key string
		args      []any
		want      string
	}{
		{"de", "Send code", nil, "Code senden"},
		{"de", "We sent a code to {phone}.", []any{"phone", "+49•••12"}, "Wir haben einen Code an +49•••12 gesendet."},
		{"en", "We sent a code to {phone}.", []any{"phone", "+49•••12"}, "We sent a code to +49•••12."},
		{"de", "Remove {name} ({phone})?", []any{"name", "Telefon 1", "phone", "+49•••12"}, "Telefon 1 (+49•••12) entfernen?"},
		{"de", "verify.trust", []any{"n", 30}, "Diesem Browser 30 Tage lang vertrauen"},
		{"en", "verify.trust", []any{"n", 1}, "Trust this browser for 1 day"},
		{"fr", "Send code", nil, "Send code"},
		{"de", "Try again in {n} s.", nil, "Versuchen Sie es in {n} s erneut."}, // the script fills {n} in
	} {
		if got := c.T(tc.lang, tc.key, tc.args...); got != tc.want {
			t.Errorf("T(%s, %q, %v) = %q, want %q", tc.lang, tc.key, tc.args, got, tc.want)
		}
	}
}

func write(t *testing.T, dir, name, text string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

func ExampleCatalogue_Form() {
	fmt.Println(English.Form("pl", 3), English.Form("pl", 5), English.Form("ru", 21))
	// Output: few many one
}

// TestPlaceholdersAreTheExpressions: the scan the catalogues are checked
// with finds what the placeholder expression Render uses finds.
func TestPlaceholdersAreTheExpressions(t *testing.T) {
	for _, text := range []string{"", "none", "{n}", "x {n} y {name}", "{{n}}", "{{a}", "{a}{b}", "{ a}", "{a-b}", "{}", "{é}", "{a_1}", "trailing {", "{n", "n}", "{{}}"} {
		var want []string
		for _, m := range placeholder.FindAllStringSubmatch(text, -1) {
			want = append(want, m[1])
		}
		if got := placeholders(text); !slices.Equal(got, want) {
			t.Errorf("%q: %q, the expression finds %q", text, got, want)
		}
	}
}
