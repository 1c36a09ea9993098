package phone

import (
	"strings"
	"testing"
)

// FuzzParse: whatever is typed, Parse returns an error or a number that
// parses again to itself, and Mask never shows more than the last three
// digits after the country code.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"+14155552671", "+44 7911 123456", "(415) 555-2671", "+1900555", "++1", "+", "+0000000000000000"} {
		f.Add(s, "")
		f.Add(s, "US")
	}
	f.Fuzz(func(t *testing.T, in, region string) {
		e164, err := Parse(in, region)
		if err != nil {
			return
		}
		if !strings.HasPrefix(e164, "+") || len(e164) > 16 || strings.Trim(e164[1:], "0123456789") != "" {
			t.Fatalf("Parse(%q) = %q, not E.164", in, e164)
		}
		again, err := Parse(e164, "")
		if err != nil || again != e164 {
			t.Fatalf("Parse(%q) = %q, which parses to %q, %v", in, e164, again, err)
		}
		if m := Mask(e164); strings.Contains(m, e164[len(e164)-4:]) {
			t.Fatalf("Mask(%q) = %q shows four trailing digits", e164, m)
		}
	})
}
