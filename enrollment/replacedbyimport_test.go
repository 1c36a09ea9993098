package enrollment

import (
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/endkeys"
)

// TestAnImportChecksWhichSessionReplacedAnother (endrace41): an export
// carries the records of which session replaced another (replaced-by/,
// a step-up's), which an end of the replaced one follows; an import takes
// one as an export writes it (a session's ID) and refuses, before
// anything is written, one naming no realm or session, or whose value is
// no session's ID (an end would write a revocation under whatever it
// said).
func TestAnImportChecksWhichSessionReplacedAnother(t *testing.T) {
	t.Parallel()
	if !isEnd(endkeys.ReplacedBy(realm, "OLD")) {
		t.Fatal("replaced-by/ is not carried with the ends")
	}
	if err := checkImported(endkeys.ReplacedBy(realm, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"), []byte("MNOPQRSTUVWXYZ234567ABCDEF")); err != nil {
		t.Errorf("a record as an export writes it: %v", err)
	}
	for _, c := range []struct{ key, value string }{
		{"replaced-by/" + realm, "NEW"},
		{"replaced-by//OLD", "NEW"},
		{endkeys.ReplacedBy(realm, "OLD"), ""},
		{endkeys.ReplacedBy(realm, "OLD"), "../NEW"},
		{endkeys.ReplacedBy(realm, "OLD"), "NEW\n"},
		{endkeys.ReplacedBy(realm, "OLD"), strings.Repeat("N", 65)},
	} {
		if err := checkImported(c.key, []byte(c.value)); err == nil {
			t.Errorf("%q = %q: taken", c.key, c.value)
		}
	}
}
