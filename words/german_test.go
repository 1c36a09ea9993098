package words

import (
	"encoding/json"
	"strings"
	"testing"
)

// The German a native speaker would not write, once found in the built-in
// catalogue (issue 23 named the first four; a review the rest): an English
// word order or word ("Entfernen Phone 1 (…)?", "abfischen"), a calque
// ("vertrauen für 30 Tage", "Niemand passt dazu", "Was geschah"), a state
// where an act is meant ("Das Gerät ist entfernt"), a word that means
// parcels ("Sendungen"), or "zu beenden beendet"; an account "abgemeldet"
// (walk39).
func TestGermanANativeSpeakerWouldWrite(t *testing.T) {
	raw, err := builtin.ReadFile("catalogue/de.json") // what ships
	if err != nil {
		t.Fatal(err)
	}
	var de map[string]string
	if err := json.Unmarshal(raw, &de); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{
		"Entfernen ", "gesendet an +", "vertrauen für", "abfisch",
		"Niemand passt", "Was geschah", "Was mit ", "Sendungen", "zu beenden beendet",
		"Jeder meldet Sie", "ist entfernt.", "sind entfernt", "sind beendet.", "er gilt einmal",
		"Zahlen zeigen", "Benutzte Codes", "Zuletzt benutzt",
		// walk39: a browser list without its article, and an account
		// signed out (a person is: "Sie werden überall abgemeldet").
		"auch vertrauenswürdigen", "zurückgesetzt oder überall abgemeldet",
	} {
		for key, text := range de {
			if strings.Contains(text, bad) {
				t.Errorf("de.json %q says %q: not German a native speaker writes (%q)", key, text, bad)
			}
		}
	}
	if de["By"] == "Durch" {
		t.Error(`de.json says "Durch" for a table's "By" (who did it): "Von"`)
	}
}
