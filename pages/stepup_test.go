package pages

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestTrimFieldCutsBetweenCharacters: a long name kept across a step-up
// stays valid text, whatever its script.
func TestTrimFieldCutsBetweenCharacters(t *testing.T) {
	t.Parallel()
	for _, s := range []string{strings.Repeat("ü", 40), "ab" + strings.Repeat("語", 30), "x" + strings.Repeat("ü", 40), strings.Repeat("x", 80)} {
		got := trimField(s)
		if !utf8.ValidString(got) || len(got) > 64 || !strings.HasPrefix(s, got) || len(got) < 61 {
			t.Errorf("trimField(%q) = %q", s, got)
		}
	}
	if got := trimField("Phone"); got != "Phone" {
		t.Errorf("a short field changed: %q", got)
	}
}
