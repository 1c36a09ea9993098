package pages_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAResetEndsARecoveryCodesEnrollmentWhateverTheClocks (clock32 3),
// through a real Caddy on Badger and Redis: ann's phone is removed (her
// recovery codes stay: made elsewhere, codesMadeElsewhere); at a gate 20 s ahead
// the codes' holder types one and is sent on to enroll a first phone; the
// admin resets ann at once, the gate's clock back on time. The
// enrollment was stamped by the gate's clock, later than the reset's, and
// enrolled the holder's phone after the reset (before: 303 to /, his
// phone hers). Now the code marked her record before it was burnt, the
// reset's revocation ended the mark, and nothing is enrolled.
func TestAResetEndsARecoveryCodesEnrollmentWhateverTheClocks(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := sitetest.Start(t, fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		realm localhost
		allow_remove_last
		%s
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`, storeLine))
		c, codes := annInvited(t, s)
		codesMadeElsewhere(t, s, "ELSEWHERE") // her codes outlive her phone
		id := deviceID.FindStringSubmatch(c.Get("/.smsgate/devices").Text)[1]
		if st, out := s.Admin("POST", "/smsgate/devices/remove", fmt.Sprintf(`{"realm":"localhost","user":"ann","id":%q}`, id)); st != http.StatusOK {
			t.Fatalf("removing the phone: %d %s", st, out)
		}
		s.Advance(20 * time.Second) // the gate ahead
		r := sitetest.NewClient(t, "")
		rtok := r.CSRF("/.smsgate/login")
		sitetest.Expect(t, r.Post("/.smsgate/login", url.Values{"username": {"ann"}, "csrf": {rtok}}), http.StatusSeeOther, "/.smsgate/verify")
		sitetest.Expect(t, r.Post("/.smsgate/verify", url.Values{"code": {codes[0]}, "csrf": {rtok}}), http.StatusSeeOther, "/.smsgate/enroll")
		s.Advance(-20 * time.Second) // on time
		if st, out := s.Admin("POST", "/smsgate/reset", `{"realm":"localhost","user":"ann"}`); st != http.StatusOK {
			t.Fatalf("reset: %d %s", st, out)
		}
		if res := r.Post("/.smsgate/enroll", url.Values{"phone": {"+14155552672"}, "csrf": {rtok}}); res.StatusCode == http.StatusSeeOther && res.Header.Get("Location") == "/.smsgate/verify" {
			r.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {rtok}})
		}
		if _, out := s.Admin("GET", "/smsgate/users?realm=localhost", ""); strings.Contains(out, "+1•••••••672") {
			t.Errorf("the code used just before the reset at a gate 20 s ahead enrolled a phone after it: %s", out)
		}
		if res := r.Get("/"); res.StatusCode == http.StatusOK {
			t.Errorf("the code's holder signed in after the reset: %s", res.Text)
		}
	})
}
