package pages_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestARecoveryCodeWithNoDeviceLeftEnrollsOne: at a login form (identity
// none), ann enrolled her phone through an invite and saved her recovery
// codes; then her last phone went — she removed it herself
// (allow_remove_last), or the admin did (remove-device). Her codes were
// made by that phone's enrollment, and go with it (attack41: else the
// intruder who took a leaked invite first kept hers once the admin
// removed her phone, and the user invited again got none): the removal
// says so, her name and a code give neither a session nor an enrollment,
// and the admin's new invite enrolls her with a set of her own. (Before
// attack41 the code sent her on to enroll a phone, its session coming
// with that phone's code: signin's useRecovery, which a set whose maker
// is not a device of hers still takes, TestARecoveryCodeRacingAResetEnrollsNothing;
// before that, 303 to / with a session and a device list still empty.)
// Through a real Caddy.
func TestARecoveryCodeWithNoDeviceLeftEnrollsOne(t *testing.T) {
	sitetest.Parallel(t)
	for _, by := range []string{"user", "admin"} {
		t.Run(by, func(t *testing.T) {
			s := sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		realm localhost
		allow_remove_last
		store badger {DIR}
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`)
			c, codes := annInvited(t, s)
			id := deviceID.FindStringSubmatch(c.Get("/.smsgate/devices").Text)[1]
			if by == "user" {
				tok := c.CSRF("/.smsgate/devices")
				res := c.Post("/.smsgate/devices", url.Values{"action": {"remove"}, "device": {id}, "confirm": {"1"}, "csrf": {tok}})
				sitetest.Expect(t, res, http.StatusOK, "")
				if !strings.Contains(res.Text, "Your recovery codes no longer work") {
					t.Errorf("the removal of her last phone did not say her codes went with it:\n%s", res.Text)
				}
			} else if st, out := s.Admin("POST", "/smsgate/devices/remove", fmt.Sprintf(`{"realm":"localhost","user":"ann","id":%q}`, id)); st != http.StatusOK || !strings.Contains(out, `"recovery_codes_withdrawn":true`) {
				t.Fatalf("removing the phone (its codes withdrawn): %d %s", st, out)
			}
			if _, out := s.Admin("GET", "/smsgate/users?realm=localhost", ""); strings.Contains(out, "+1•••••••671") {
				t.Fatalf("the phone is still listed: %s", out)
			}

			r := sitetest.NewClient(t, "")
			rtok := r.CSRF("/.smsgate/login")
			sitetest.Expect(t, r.Post("/.smsgate/login", url.Values{"username": {"ann"}, "csrf": {rtok}}), http.StatusSeeOther, "/.smsgate/verify")
			if res := r.Post("/.smsgate/verify", url.Values{"code": {codes[0]}, "csrf": {rtok}}); res.StatusCode != http.StatusBadRequest || r.Cookie("smsgate_session") != "" {
				t.Fatalf("a recovery code of the removed phone's set: %d %s", res.StatusCode, res.Header.Get("Location"))
			}
			sitetest.Expect(t, r.Get("/"), http.StatusFound, "/.smsgate/login?rd=%2F")

			s.Advance(time.Minute)  // past the wait after the last text to her number
			c, _ = annInvited(t, s) // a set of her own
			sitetest.ExpectBody(t, c.Get("/"), "Hello, ann!")
		})
	}
}

// annInvited has ann (identity none) accept an admin's invite in a new
// browser and enroll +14155552671; it returns that browser, signed in, and
// her recovery codes.
func annInvited(t *testing.T, s *sitetest.Site) (*sitetest.Client, []string) {
	t.Helper()
	st, body := s.Admin("POST", "/smsgate/invites", `{"realm":"localhost","user":"ann","ttl":"1h"}`)
	var inv struct{ Path string }
	if err := json.Unmarshal([]byte(body), &inv); st != http.StatusOK || err != nil {
		t.Fatalf("invite: %d %s", st, body)
	}
	c := sitetest.NewClient(t, "")
	tok := c.CSRF("/.smsgate/login")
	token := inv.Path[strings.Index(inv.Path, "token=")+len("token="):] // under the gate's prefix
	sitetest.Expect(t, c.Post("/.smsgate/invite", url.Values{"token": {token}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/enroll")
	sitetest.Expect(t, c.Post("/.smsgate/enroll", url.Values{"phone": {"+14155552671"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	return c, sitetest.ExpectEnrolled(t, c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), "/")
}

// codesMadeElsewhere has the admin re-import ann's recovery set with its
// maker record naming maker (a device she never had, or another of hers):
// her codes then outlive her phone's removal (attack41: the set her
// phone's enrollment made goes with that phone), for the tests of what a
// recovery code does with no device left, or with a passkey alone.
func codesMadeElsewhere(t *testing.T, s *sitetest.Site, maker string) {
	t.Helper()
	st, out := s.Admin("GET", "/smsgate/export?realm=localhost", "")
	var all []struct {
		Key   string          `json:"key"`
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal([]byte(out), &all); st != http.StatusOK || err != nil {
		t.Fatalf("export: %d %v %s", st, err, out)
	}
	var mine []any
	for _, r := range all {
		switch r.Key {
		case "recovery/localhost/ann":
			mine = append(mine, r)
		case "b64:recovery-by/localhost/ann": // the maker's ID, then the set's digests
			var by string
			_ = json.Unmarshal(r.Value, &by)
			raw, err := base64.StdEncoding.DecodeString(by)
			if err != nil {
				t.Fatalf("the maker record: %v %s", err, r.Value)
			}
			_, digests, _ := strings.Cut(string(raw), " ")
			r.Value, _ = json.Marshal(base64.StdEncoding.EncodeToString([]byte(maker + " " + digests)))
			mine = append(mine, r)
		}
	}
	if len(mine) != 2 {
		t.Fatalf("ann's set and its maker in the export: %d records of %s", len(mine), out)
	}
	body, _ := json.Marshal(mine)
	if st, out := s.Admin("POST", "/smsgate/import?realm=localhost", string(body)); st != http.StatusOK {
		t.Fatalf("import: %d %s", st, out)
	}
}
