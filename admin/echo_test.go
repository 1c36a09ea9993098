package admin

import (
	"strings"
	"testing"
)

// TestEchoEscapesAndCuts: a client's value in an admin error is escaped
// (textsafe.Escape: controls, direction marks, invalid bytes) and cut at
// maxEcho bytes of what is shown, never inside an escape, with its length.
func TestEchoEscapesAndCuts(t *testing.T) {
	for in, want := range map[string]string{
		"alice":                               "alice",
		"a\xffb":                              `a\xffb`,
		"\u202ealice":                         `\u202Ealice`,
		strings.Repeat("é", 200):              strings.Repeat("é", 128) + "… (400 bytes)",
		strings.Repeat("\x1b", 100):           strings.Repeat(`\u001B`, 42) + "… (100 bytes)",
		strings.Repeat("a", maxEcho):          strings.Repeat("a", maxEcho),
		strings.Repeat("a", maxEcho+1):        strings.Repeat("a", maxEcho) + "… (257 bytes)",
		"x" + strings.Repeat("\xff", maxEcho): "x" + strings.Repeat(`\xff`, 63) + "… (257 bytes)",
	} {
		if got := echo(in); got != want {
			t.Errorf("echo(%.40q) = %.80q, want %.80q", in, got, want)
		}
	}
}
