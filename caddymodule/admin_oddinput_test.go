package caddymodule_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestTheAdminAPISaysWhatAnOddInputLacks (attack40b, small points): a
// devices/remove naming no device answered 404 "This device is not there
// any more: it was removed, maybe in another window", as if it had been
// (now 400 "id is required"); a pumping/resume of a 1,000-character place
// echoed it whole in its 404 (now 400, its length said, none of it echoed:
// no pause has a place longer than "+" and 15 digits). Through a real Caddy.
func TestTheAdminAPISaysWhatAnOddInputLacks(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		realm localhost
		user carol +14155552671
		store badger {DIR}
		provider log
	}
	respond "hi"
}`)
	st, out := s.Admin("POST", "/smsgate/devices/remove", `{"realm":"localhost","user":"carol"}`)
	if st != http.StatusBadRequest || !strings.Contains(out, "id is required") {
		t.Errorf("devices/remove without an id: %d %s; want 400 id is required", st, out)
	}
	long := strings.Repeat("9", 1000)
	st, out = s.Admin("POST", "/smsgate/pumping/resume", `{"realm":"localhost","place":"`+long+`"}`)
	if st != http.StatusBadRequest || strings.Contains(out, strings.Repeat("9", 20)) || len(out) > 300 {
		t.Errorf("pumping/resume of a 1,000-character place: %d %s; want a short 400 that does not echo it", st, out)
	}
	// A place of a pause's length is still asked about, and named.
	st, out = s.Admin("POST", "/smsgate/pumping/resume", `{"realm":"localhost","place":"+44740"}`)
	if st != http.StatusNotFound || !strings.Contains(out, "+44740 is not paused") {
		t.Errorf("pumping/resume of +44740, not paused: %d %s; want 404 naming it", st, out)
	}
}

// TestTheAdminAPIsErrorsShowAClientsValueBoundedAndEscaped (close19 Left
// 5): the admin API's errors echoed what the client sent — an unknown
// realm whole (10,000 bytes back for 10,000 sent), an operation's name, a
// ttl, a body's field name — and escape sequences in it reached the CLI's
// terminal as they came (the JSON answer carries ESC as \u001b, which the
// CLI decodes). Each is shown now at most maxEcho (256) bytes, cut with its
// length, with control, direction and invisible characters escaped.
// Through a real Caddy.
func TestTheAdminAPIsErrorsShowAClientsValueBoundedAndEscaped(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "")
	odd := "\x1b[0m\u202e" + strings.Repeat("a", 10000) // a terminal's escape, reversing what follows
	quoted, _ := json.Marshal(odd)
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		says                     string
	}{
		{"an unknown realm", "GET", "/smsgate/users?realm=" + url.QueryEscape(odd), "", http.StatusNotFound, "no smsgate handler serves realm"},
		{"an unknown realm in a body", "POST", "/smsgate/reset", `{"realm":` + string(quoted) + `,"user":"alice"}`, http.StatusNotFound, "no smsgate handler serves realm"},
		{"an unknown operation", "POST", "/smsgate/" + url.PathEscape(odd), `{"realm":"localhost","user":"alice"}`, http.StatusNotFound, "unknown operation"},
		{"a ttl", "POST", "/smsgate/invites", `{"realm":"localhost","user":"alice","ttl":` + string(quoted) + `}`, http.StatusBadRequest, "is not a duration"},
		{"a field's name", "POST", "/smsgate/reset", `{"realm":"localhost",` + string(quoted) + `:1}`, http.StatusBadRequest, "is not one this request takes"},
		{"a user with controls", "POST", "/smsgate/reset", `{"realm":"localhost","user":` + string(quoted) + `}`, http.StatusBadRequest, "is not a user's name"},
	} {
		st, out := s.Admin(tc.method, tc.path, tc.body)
		var answer struct {
			Error string `json:"error"`
		}
		if err := json.Unmarshal([]byte(out), &answer); err != nil || st != tc.status || !strings.Contains(answer.Error, tc.says) {
			t.Errorf("%s: %d %.300s; want %d saying %q", tc.name, st, out, tc.status, tc.says)
			continue
		}
		if !strings.Contains(answer.Error, strings.Repeat("a", 100)+"… (100") || tc.name != "a field's name" && !strings.Contains(answer.Error, `\u001B[0m\u202E`) {
			t.Errorf("%s: %.400s; want the value's beginning escaped, cut with its length", tc.name, answer.Error)
		}
		if len(answer.Error) > 600 || strings.ContainsAny(answer.Error, "\x1b\u202e") {
			t.Errorf("%s: the error is %d bytes (at most 600 wanted), raw controls in it: %v", tc.name, len(answer.Error), strings.ContainsAny(answer.Error, "\x1b\u202e"))
		}
	}
}
