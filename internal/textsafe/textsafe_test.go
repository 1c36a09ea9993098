package textsafe

import (
	"encoding/json"
	"testing"
)

func TestStripAndEscape(t *testing.T) {
	for in, want := range map[string][2]string{
		"alice":                 {"alice", "alice"},
		"evil\u202Etxt.exe":     {"eviltxt.exe", `evil\u202Etxt.exe`},
		"a\u2028b":              {"a b", `a\u2028b`},
		"zero\u200Bwidth\uFEFF": {"zerowidth", `zero\u200Bwidth\uFEFF`},
		"iso\u2066late\u2069":   {"isolate", `iso\u2066late\u2069`},
		"tab\there\nnl":         {"tab here nl", `tab\u0009here\u000Anl`},
		"bad\xffbyte":           {"badbyte", `bad\xffbyte`},
		"Grüße 📱 Ünïcödé":       {"Grüße 📱 Ünïcödé", "Grüße 📱 Ünïcödé"},
		"private\U000F0000use":  {"privateuse", `private\U000F0000use`},
	} {
		if got := Strip(in); got != want[0] {
			t.Errorf("Strip(%q) = %q, want %q", in, got, want[0])
		}
		if got := Escape(in); got != want[1] {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want[1])
		}
		if Clean(in) != (in == want[0]) {
			t.Errorf("Clean(%q) = %v", in, Clean(in))
		}
	}
}

func TestEscapeJSONKeepsTheData(t *testing.T) {
	in := map[string]string{"user": "ali\u202Ece", "device": "line\u2028two \U000F0001 ok ü"}
	raw, _ := json.Marshal(in)
	out := EscapeJSON(raw)
	for _, r := range string(out) {
		if r >= 0x80 && Hidden(r) {
			t.Fatalf("EscapeJSON left %U in %s", r, out)
		}
	}
	var back map[string]string
	if err := json.Unmarshal(out, &back); err != nil || back["user"] != in["user"] || back["device"] != in["device"] {
		t.Fatalf("EscapeJSON changed the data: %v %q", err, back)
	}
}

func TestWordsSpellNoLinkAndNoNumber(t *testing.T) {
	for in, want := range map[string]string{
		"alice":                     "alice",
		"Ünïcödé Ålice":             "Ünïcödé Ålice",
		"bob42":                     "bob42",
		"alice2024":                 "alice",
		"Call 1 900 555 0000":       "Call",
		"http://evil.example/reset": "http evil example reset",
		"Your account is locked. Log in at http://evil.example/reset": "Your account is locked Log in at…",
		"ｅｖｉｌ．ｅｘａｍｐｌｅ":                                                "evil example",
		"１９００５５５":                                                     "",
		"a\u202Eb\u2028c":                                             "a b c",
		"alice@example.com":                                           "alice example com",
		"   ":                                                         "",
	} {
		if got := Words(in, 32, 3); got != want {
			t.Errorf("Words(%q) = %q, want %q", in, got, want)
		}
	}
}
