package caddymodule_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAnImportOfRecordsNoGateReadsIsRefused: an import wrote a user's
// records as its file held them, so a hand-edited or hostile file's
// device record that is no list of devices made the admin's list of users
// (and the console's) a 503 saying the store did not answer, and keys no
// gate reads (no realm, the realm escaped otherwise, a name with its
// slashes unescaped) were written and listed as users, one passing the
// file's realm check for a realm it is not. Each is refused now, 400 and
// nothing written; the list of users answers.
func TestAnImportOfRecordsNoGateReadsIsRefused(t *testing.T) {
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
	for _, record := range []string{
		`{"key":"device/localhost/mallory","value":1}`,           // before: 200, then the users' list 503
		`{"key":"recovery/localhost/mallory","value":{"a":1}}`,   // no list of hashes
		`{"key":"device/local%68ost/mallory","value":[]}`,        // realm localhost to the check, to no gate
		`{"key":"device//mallory","value":[]}`,                   // no realm: passed the realm check
		`{"key":"device/localhost","value":[]}`,                  // no name
		`{"key":"device/localhost/carol/../mallory","value":[]}`, // listed as user "carol/../mallory"
	} {
		st, body := s.Admin("POST", "/smsgate/import?realm=localhost", `[`+record+`]`)
		if st != http.StatusBadRequest || !strings.Contains(body, "is not a record smsgate exports") {
			t.Errorf("import of %s: %d %s", record, st, body)
		}
	}
	st, body := s.Admin("GET", "/smsgate/users?realm=localhost", "")
	if st != http.StatusOK || strings.Contains(body, "mallory") {
		t.Fatalf("the users after the imports: %d %s", st, body)
	}
	// A record as an export writes it still goes in.
	if st, body := s.Admin("POST", "/smsgate/import?realm=localhost", `[{"key":"device/localhost/dave%2Fx","value":[{"id":"AB12CD34","name":"Phone 1","phone":"+14155550123","enrolled":"2026-12-01T00:00:00Z"}]}]`); st != http.StatusOK {
		t.Fatalf("a well-formed record: %d %s", st, body)
	}
	if st, body := s.Admin("GET", "/smsgate/users?realm=localhost", ""); st != http.StatusOK || !strings.Contains(body, `"dave/x"`) {
		t.Fatalf("the users after a well-formed import: %d %s", st, body)
	}
}
