package enrollment

import (
	"strings"
	"testing"
)

// FuzzNormalizeCode: a code is accepted only as exactly n ASCII digits.
func FuzzNormalizeCode(f *testing.F) {
	for _, s := range []string{"123456", "123 456", "12-34-56", "１２３４５６", "123456\x00", "", "-------", "0000000000"} {
		f.Add(s, 6)
	}
	f.Fuzz(func(t *testing.T, in string, n int) {
		if n < 6 || n > 10 {
			n = 6
		}
		code, ok := NormalizeCode(in, n)
		if !ok {
			return
		}
		if len(code) != n || strings.Trim(code, "0123456789") != "" {
			t.Fatalf("NormalizeCode(%q, %d) = %q", in, n, code)
		}
	})
}
