package words

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestRender(t *testing.T) {
	c := English
	for _, tc := range []struct {
		lang string
		text Text
		want string
	}{
		{"en", Text{ID: "code.wrong", Args: map[string]any{"n": 1}}, "Wrong code; 1 try left."},
		{"en", Text{ID: "code.wrong", Args: map[string]any{"n": 3}}, "Wrong code; 3 tries left."},
		{"de", Text{ID: "code.wrong", Args: map[string]any{"n": 3}}, "Falscher Code. Sie haben noch 3 Versuche."},
		{"en", Text{ID: "code.locked", Args: map[string]any{"wait": Wait(15 * time.Minute)}}, "Too many wrong codes; sign-in is locked for 15 minutes."},
		{"de", Text{ID: "limit.user", Args: map[string]any{"wait": Wait(90 * time.Minute)}}, "Sie haben zu viele Codes angefordert. Versuchen Sie es in 2 Stunden erneut."},
		{"en", Text{ID: "code.cooldown", Args: map[string]any{"wait": Wait(time.Second)}}, "Please wait 1 second before requesting another code."},
		{"fr", Text{ID: "gate.not_found"}, "There is no such page."}, // a language it lacks: English
		{"en", Text{ID: "no.such.id"}, "no.such.id"},
	} {
		if got := c.Render(tc.lang, tc.text); got != tc.want {
			t.Errorf("Render(%s, %v) = %q, want %q", tc.lang, tc.text, got, tc.want)
		}
	}
}

func TestMatchNegotiates(t *testing.T) {
	for accept, want := range map[string]string{
		"":                           "en",
		"de-DE,de;q=0.9,en;q=0.8":    "de",
		"de-AT":                      "de",
		"fr-FR,fr;q=0.9":             "en",
		"en-GB,de;q=0.5":             "en",
		"fr;q=0.9, de;q=0.8":         "de",
		"*":                          "en",
		"this is not a language tag": "en",
	} {
		if got := English.Match(accept); got != want {
			t.Errorf("Match(%q) = %q, want %q", accept, got, want)
		}
	}
}

func TestAnAdminsCatalogueOnTop(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "nl.json"), []byte(`{"gate.not_found": "Deze pagina bestaat niet.", "Send code": "Stuur code"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "de.json"), []byte(`{"gate.not_found": "Nicht da."}`), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Match("nl-BE"); got != "nl" {
		t.Fatalf("Match(nl-BE) = %q", got)
	}
	if got := c.Render("nl", Text{ID: "gate.not_found"}); got != "Deze pagina bestaat niet." {
		t.Errorf("Dutch: %q", got)
	}
	if got := c.Render("de", Text{ID: "gate.not_found"}); got != "Nicht da." {
		t.Errorf("an admin's German override: %q", got)
	}
	if got := c.T("nl", "Send code"); got != "Stuur code" {
		t.Errorf("a page's own word: %q", got)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "xx-bad!.json"), []byte(`{}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err == nil {
		t.Error("a catalogue named for no language loaded")
	}
	// The built-in catalogue alone is read once and shared; an admin's
	// folder never changes it.
	if builtin, err := Load(""); err != nil || builtin != English {
		t.Errorf("Load(\"\") = %p, %v; want English, read once (%p)", builtin, err, English)
	}
	if c == English || English.Render("nl", Text{ID: "gate.not_found"}) == "Deze pagina bestaat niet." {
		t.Error("an admin's catalogue changed the built-in one")
	}
}

// TestAFolderWithoutCataloguesIsRefused: a messages_dir that holds no
// <lang>.json (misspelt, or not on this machine) is refused, as a
// templates_dir without templates is. Before, it loaded as if unset: the
// admin's texts were missing, and nothing said so.
func TestAFolderWithoutCataloguesIsRefused(t *testing.T) {
	for _, dir := range []string{t.TempDir(), filepath.Join(t.TempDir(), "missing")} {
		if _, err := Load(dir); err == nil || err.Error() != "messages_dir "+dir+": no *.json files" {
			t.Errorf("Load(%s), a folder without catalogues: %v", dir, err)
		}
	}
}

func TestErrors(t *testing.T) {
	e := New("code.expired")
	wrapped := fmt.Errorf("checking: %w", e)
	if !errors.Is(wrapped, New("code.expired")) || errors.Is(wrapped, New("code.too_many")) {
		t.Error("errors.Is does not compare ids")
	}
	if got, ok := Of(wrapped); !ok || got.ID != "code.expired" {
		t.Errorf("Of = %v, %v", got, ok)
	}
	if e.Error() != "This code has expired; request a new one." {
		t.Errorf("Error() = %q", e.Error())
	}
	if _, ok := Of(errors.New("plain")); ok {
		t.Error("a plain error has words")
	}
}
