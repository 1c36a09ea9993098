package caddymodule_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestTheAdminAPISaysWhatItDidNotDo: the admin API answers 200 only to
// what it did as asked. A reset or revocation of a name that holds
// nothing (a typo of a lost phone's owner) is a 404 saying so; a name
// with a control character is refused; a misspelt field (an invite's
// "tll", which gave the default week), a field named twice (the last one
// won) and anything after the JSON are refused, the field named. A user who holds something is reset and
// revoked as before, and the CLI's own bodies (pumping/resume with its
// empty "user") are still taken.
func TestTheAdminAPISaysWhatItDidNotDo(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	basic_auth {
		alice $2a$10$eAjqWKWtJzWGcoO86qpOTe3dpZRbaxiYEpCAQw/3wFkkdxgx/z4cK
	}
	smsgate {
		realm localhost
		store badger {DIR}
		provider log
		user alice +14155552671
	}
	respond "Hello, {http.auth.user.id}!"
}`)
	for _, tc := range []struct {
		op, body string
		status   int
		says     string
	}{
		{"reset", `{"realm":"localhost","user":"alcie"}`, http.StatusNotFound, "No such user: alcie holds no phone"},
		{"revoke", `{"realm":"localhost","user":"alcie"}`, http.StatusNotFound, "No such user: alcie"},
		{"reset", `{"realm":"localhost","user":"alice","user":"alcie"}`, http.StatusBadRequest, `names the field \"user\" twice`},
		{"reset", `{"realm":"localhost","user":"alice","User":"alcie"}`, http.StatusBadRequest, `names the field \"User\" twice`},
		{"revoke", `{"realm":"localhost","user":"\u0000"}`, http.StatusBadRequest, "no control characters"},
		{"reset", `{"realm":"localhost","user":"al\u0007ice"}`, http.StatusBadRequest, "no control characters"},
		{"revoke", `{"realm":"localhost","user":"alice"} and then some`, http.StatusBadRequest, "holds more after its JSON"},
		{"invites", `{"realm":"localhost","user":"bob","tll":"1h"}`, http.StatusBadRequest, `field \"tll\" is not one this request takes`},
		{"import?realm=localhost", `[{"realm":"localhost","kind":"zzz"}]`, http.StatusBadRequest, `field \"realm\" is not one this request takes`},
		{"pumping/resume", `{"realm":"localhost","user":"","place":"US","days":1}`, http.StatusBadRequest, `field \"days\"`},
		{"pumping/resume", `{"realm":"localhost","user":"","place":"US"}`, http.StatusNotFound, ""},
		{"revoke", `{"realm":"localhost","user":"alice"}`, http.StatusOK, `"revoked":"alice"`},
		{"reset", `{"realm":"localhost","user":"alice"}`, http.StatusOK, `"reset":"alice"`},
	} {
		st, body := sitetest.Admin(t, "POST", "/smsgate/"+tc.op, tc.body)
		if st != tc.status || !strings.Contains(body, tc.says) {
			t.Errorf("POST /smsgate/%s %s: %d %s, want %d saying %s", tc.op, tc.body, st, body, tc.status, tc.says)
		}
	}
}
