package caddymodule_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAnImportNamesTheRecordItRefuses: an import's refusal names the
// record's key as the admin can read it: a record with no key is said to
// have none (it was "import:  is not a record smsgate exports", an empty
// name), a key's direction mark is shown escaped, and a long key is cut.
// A record with fields an export does not write (hand-made: "realm",
// "kind") is refused naming the field.
func TestAnImportNamesTheRecordItRefuses(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		user carol +14155552671
		store badger {DIR}
		provider log
	}
	respond "hi"
}`)
	long := strings.Repeat("z", 300)
	for _, tc := range []struct{ records, says, not string }{
		{`[{"value":1}]`, `import: a record without a \"key\" is not a record smsgate exports`, ""},
		{`[{"key":"","value":1}]`, `import: a record without a \"key\" is not a record smsgate exports`, ""},
		{`[{"key":"zzz\u202eevil","value":1}]`, `import: zzz\\u202Eevil is not a record smsgate exports`, "\u202e"},
		{`[{"key":"device/\u202eevil/x","value":1}]`, `the file holds records of realm \\u202Eevil, not localhost`, "\u202e"},
		{`[{"key":"` + long + `","value":1}]`, `import: ` + long[:100] + `… is not a record smsgate exports`, long[:101]},
		{`[{"realm":"localhost","kind":"zzz"}]`, `field \"realm\" is not one this request takes`, ""},
	} {
		st, body := s.Admin("POST", "/smsgate/import?realm=localhost", tc.records)
		if st != http.StatusBadRequest || !strings.Contains(body, tc.says) || (tc.not != "" && strings.Contains(body, tc.not)) {
			t.Errorf("import of %.60s: %d %s, want 400 saying %s", tc.records, st, body, tc.says)
		}
	}
}
