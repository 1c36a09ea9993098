package caddymodule_test

import (
	"net/http"
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
