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

// TestARecoveryCodeEnrollsNothingWhereItsUserIsNotNamed: ann's recovery
// code, her last phone gone (her codes made elsewhere: codesMadeElsewhere),
// sends her to enroll one only at a gate that
// signs her in: at a login form that names only carol (another gate of the
// realm, on the same store), the phone it enrolled could never sign in
// there, and its enrollment is refused as an invite for her is there
// (TestAnInviteForANameTheFormDoesNotAdmit). Through a real Caddy. (Before:
// 303 to that gate's enroll step, a code texted, the phone enrolled.)
func TestARecoveryCodeEnrollsNothingWhereItsUserIsNotNamed(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	handle /carol* {
		smsgate {
			identity none
			realm localhost
			path_prefix /carol/.smsgate/
			user carol +14155552679
			store badger {DIR}
			provider log
		}
		respond "carol's: {http.auth.user.id}"
	}
	handle {
		smsgate {
			identity none
			realm localhost
			allow_remove_last
			store badger {DIR}
			provider log
		}
		respond "Hello, {http.auth.user.id}!"
	}
}`)
	c, codes := annInvited(t, s)
	codesMadeElsewhere(t, s, "ELSEWHERE") // her codes outlive her phone
	id := deviceID.FindStringSubmatch(c.Get("/.smsgate/devices").Text)[1]
	if st, out := s.Admin("POST", "/smsgate/devices/remove", fmt.Sprintf(`{"realm":"localhost","user":"ann","id":%q}`, id)); st != http.StatusOK {
		t.Fatalf("removing the phone: %d %s", st, out)
	}

	r := sitetest.NewClient(t, "")
	tok := r.CSRF("/carol/.smsgate/login")
	sitetest.Expect(t, r.Post("/carol/.smsgate/login", url.Values{"username": {"ann"}, "csrf": {tok}}), http.StatusSeeOther, "/carol/.smsgate/verify")
	if res := r.Post("/carol/.smsgate/verify", url.Values{"code": {codes[0]}, "csrf": {tok}}); res.StatusCode == http.StatusSeeOther {
		t.Errorf("ann's recovery code at a gate that names only carol: 303 %s", res.Header.Get("Location"))
	}
	sent := s.Sent()
	if r.Post("/carol/.smsgate/enroll", url.Values{"phone": {"+14155552672"}, "csrf": {tok}}); s.Sent() != sent {
		r.Post("/carol/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}})
	}
	if _, out := s.Admin("GET", "/smsgate/users?realm=localhost", ""); strings.Contains(out, "+1•••••••672") {
		t.Errorf("a phone enrolled for ann at a gate that never signs her in: %s", out)
	}

	// At her own gate the next code still leads her to enroll.
	s.Advance(time.Minute) // past the wait after the code the name got at carol's gate
	own := sitetest.NewClient(t, "")
	otok := own.CSRF("/.smsgate/login")
	sitetest.Expect(t, own.Post("/.smsgate/login", url.Values{"username": {"ann"}, "csrf": {otok}}), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, own.Post("/.smsgate/verify", url.Values{"code": {codes[1]}, "csrf": {otok}}), http.StatusSeeOther, "/.smsgate/enroll")
}
