package textsafe

import (
	"encoding/json"
	"testing"
	"unicode"
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
		"alic\u034Fe":           {"alice", `alic\u034Fe`},
		"alice\uFE0F":           {"alice", `alice\uFE0F`},
		"alice\U000E0100":       {"alice", `alice\U000E0100`},
		"soft\u00ADhyphen":      {"softhyphen", `soft\u00ADhyphen`},
		"\u3164alice\uFFA0":     {"alice", `\u3164alice\uFFA0`},
		"Phone \u2764\uFE0F":    {"Phone \u2764", "Phone \u2764" + `\uFE0F`},
		"alice\uFFFC":           {"alice", `alice\uFFFC`},
		"alic\u1806e":           {"alice", `alic\u1806e`},
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
		"alic\u034Fe\uFE0F \u3164":                                    "alic e",
	} {
		if got := Words(in, 32, 3); got != want {
			t.Errorf("Words(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestEveryDefaultIgnorableIsHidden: Unicode's Default_Ignorable_Code_Point
// (DerivedCoreProperties.txt, Unicode 15.1), which Go's unicode package
// has no table of, is Hidden whole: a name holding one shows as the name
// without it, and a directory's comparison drops it; so are U+1806 and
// U+FFFC, which RFC 4518 §2.2 drops too (attack34's F1).
func TestEveryDefaultIgnorableIsHidden(t *testing.T) {
	for _, r := range [][2]rune{
		{0x00AD, 0x00AD}, {0x034F, 0x034F}, {0x061C, 0x061C}, {0x115F, 0x1160},
		{0x17B4, 0x17B5}, {0x180B, 0x180F}, {0x200B, 0x200F}, {0x202A, 0x202E},
		{0x2060, 0x206F}, {0x3164, 0x3164}, {0xFE00, 0xFE0F}, {0xFEFF, 0xFEFF},
		{0xFFA0, 0xFFA0}, {0xFFF0, 0xFFF8}, {0x1BCA0, 0x1BCA3}, {0x1D173, 0x1D17A},
		{0xE0000, 0xE0FFF}, {0x1806, 0x1806}, {0xFFFC, 0xFFFC},
	} {
		for c := r[0]; c <= r[1]; c++ {
			if !Hidden(c) {
				t.Errorf("%U, a default-ignorable code point, is not Hidden", c)
			}
		}
	}
	for _, shown := range "alice Ünïcödé 가각\u1100\u1161\u2764\U0001F4F1\u00A0\u0301\u1680\u1807" {
		if Hidden(shown) {
			t.Errorf("%U is Hidden", shown)
		}
	}
}

// TestWhatRFC4518DropsIsHidden: every code point RFC 4518 §2.2 maps to
// nothing before a directory's comparison (its lists, whole) is Hidden, so
// an identity holding one signs nobody in and twinKey leaves it out
// (attack34's F1: U+FFFC and U+1806 were not); and the code points it
// maps to a space are Unicode's White_Space, every one and no other,
// which twinKey takes for a space.
func TestWhatRFC4518DropsIsHidden(t *testing.T) {
	for _, r := range [][2]rune{
		{0x00AD, 0x00AD}, {0x1806, 0x1806}, {0x034F, 0x034F}, {0x180B, 0x180D}, {0xFE00, 0xFE0F}, {0xFFFC, 0xFFFC},
		{0x0000, 0x0008}, {0x000E, 0x001F}, {0x007F, 0x0084}, {0x0086, 0x009F}, {0x06DD, 0x06DD}, {0x070F, 0x070F},
		{0x180E, 0x180E}, {0x200C, 0x200F}, {0x202A, 0x202E}, {0x2060, 0x2063}, {0x206A, 0x206F}, {0xFEFF, 0xFEFF},
		{0xFFF9, 0xFFFB}, {0x1D173, 0x1D17A}, {0xE0001, 0xE0001}, {0xE0020, 0xE007F}, {0x200B, 0x200B},
	} {
		for c := r[0]; c <= r[1]; c++ {
			if !Hidden(c) {
				t.Errorf("%U, which RFC 4518 maps to nothing, is not Hidden", c)
			}
		}
	}
	spaces := map[rune]bool{}
	for _, r := range [][2]rune{{0x0009, 0x000D}, {0x0085, 0x0085}, {0x0020, 0x0020}, {0x00A0, 0x00A0}, {0x1680, 0x1680},
		{0x2000, 0x200A}, {0x2028, 0x2029}, {0x202F, 0x202F}, {0x205F, 0x205F}, {0x3000, 0x3000}} {
		for c := r[0]; c <= r[1]; c++ {
			spaces[c] = true
		}
	}
	for c := rune(0); c <= unicode.MaxRune; c++ {
		if unicode.Is(unicode.White_Space, c) != spaces[c] {
			t.Errorf("%U: White_Space %v, a space to RFC 4518 %v", c, unicode.Is(unicode.White_Space, c), spaces[c])
		}
	}
}
