package caddymodule_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestATurkicIsNameEnrollsNoSecondAlice: an SSO whose logins ignore case
// the way .NET's ToUpperInvariant (ASP.NET Identity's normalised user
// name), Java's equalsIgnoreCase, JavaScript's toUpperCase or Go's
// strings.ToLower do, and that passes the name as typed. "alıce" (U+0131,
// dotless i) upper-cases to ALICE; "ALİCE" (U+0130, dotted I) lower-cases
// to alice. Both are refused beside an enrolled alice, no code sent to
// the phone of whoever typed alice's password; "alíce" (an accent, which
// no case-blind login takes for alice) is another user and enrolls. Behind
// a real Caddy, on Badger and a real Redis. Before, twinKey was
// cases.Fold, which has no Turkic rows: both enrolled (attack28's F1).
func TestATurkicIsNameEnrollsNoSecondAlice(t *testing.T) {
	sitetest.Parallel(t)
	sso := ssoStub(t, func(login string) bool {
		return strings.ToUpper(login) == "ALICE" || strings.ToLower(login) == "alice" || login == "al\u00edce"
	})
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := behindSSO(t, sso, storeLine, "provider log")
		sitetest.Enroll(t, s, ssoLogin(t, "alice"), "+14155550101")
		for _, twin := range []string{"al\u0131ce", "AL\u0130CE"} {
			thief := ssoLogin(t, twin)
			sitetest.Expect(t, thief.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/.smsgate/enroll")
			sent := s.Sent()
			res, _ := sitetest.EnrollWith(t, thief, "+14155550199")
			if res.StatusCode != http.StatusForbidden || s.Sent() != sent {
				t.Errorf("%+q (alice's password, an SSO ignoring case as ToUpper/ToLower do): %d, %d code(s) sent to the thief's phone; want 403, none",
					twin, res.StatusCode, s.Sent()-sent)
			}
		}
		sitetest.Enroll(t, s, ssoLogin(t, "al\u00edce"), "+14155550102")
		if users := usersOf(t, s); users["alice"] != 1 || users["al\u00edce"] != 1 || len(users) != 2 {
			t.Errorf("users: %v, want alice and al\u00edce, one device each", users)
		}
	})
}
