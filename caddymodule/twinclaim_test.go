package caddymodule_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// twinsRealm is the realm whose scans of devices the hold store holds;
// claimedRealm, the one whose claims of names it holds once written.
const (
	twinsRealm   = "twins"
	claimedRealm = "claimed"
)

// twinClaimedPage is what the enroll page says to a name that differs only
// in case from a user's whose first enrollment holds the name's claim.
const twinClaimedPage = "differs only in capital letters, spacing or invisible characters from another account that is being set up right now"

// TestTwinsCompletingAtOnceThroughCaddyEnrollOne: behind a case-blind SSO
// (alice's password typed as ALICE passes as ALICE) with enrollment open,
// alice and ALICE, neither enrolled, each begin a first enrollment (a code
// sent to each); alice's completion is held once its fresh scan found no
// twin, before her phone is written, while ALICE's completes: one is
// enrolled (303 to the recovery codes) and the other refused with the
// page (403), and only one of them holds a phone. On Badger and Redis,
// through a real Caddy. Before, the scan and the write were two steps:
// both were enrolled (review23's F5).
func TestTwinsCompletingAtOnceThroughCaddyEnrollOne(t *testing.T) {
	sitetest.Parallel(t)
	sso := aliceSSO(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s, dir := caseBlindHeldSite(t, sso, twinsRealm, storeLine)
		begin := func(name, num string) (c *sitetest.Client, code, tok string) {
			c = ssoLogin(t, name)
			sitetest.Expect(t, c.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/.smsgate/enroll")
			res, tok := sitetest.EnrollWith(t, c, num)
			sitetest.Expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
			return c, s.LastCode(), tok
		}
		alice, aliceCode, aliceTok := begin("alice", "+14155550101")
		thief, thiefCode, thiefTok := begin("ALICE", "+14155550199")
		sitetest.AddHold(t, dir, sitetest.Hold{Of: twinsRealm, Op: "scanned", Key: "device/" + twinsRealm + "/"})
		held := sitetest.Park(t, dir, func() *sitetest.Response {
			return alice.Post("/.smsgate/verify", url.Values{"code": {aliceCode}, "csrf": {aliceTok}})
		})
		theirs := thief.Post("/.smsgate/verify", url.Values{"code": {thiefCode}, "csrf": {thiefTok}})
		hers := held.Release(t)
		answers := map[int]int{hers.StatusCode: 1}
		answers[theirs.StatusCode]++
		if answers[http.StatusSeeOther] != 1 || answers[http.StatusForbidden] != 1 {
			t.Fatalf("alice's completion %d, ALICE's %d: want one 303 and one 403", hers.StatusCode, theirs.StatusCode)
		}
		for _, res := range []*sitetest.Response{hers, theirs} {
			if res.StatusCode == http.StatusForbidden && !strings.Contains(res.Text, caseTwinPage) && !strings.Contains(res.Text, twinClaimedPage) {
				t.Fatalf("the refusal is not the page:\n%s", res.Text)
			}
			if res.StatusCode == http.StatusSeeOther && res.Header.Get("Location") != "/.smsgate/recovery" {
				t.Fatalf("the enrollment: 303 to %q", res.Header.Get("Location"))
			}
		}
		st, out := s.Admin("GET", "/smsgate/users?realm="+twinsRealm, "")
		if st != http.StatusOK || strings.Count(out, `"user":`) != 1 {
			t.Fatalf("users: %d %s, want one", st, out)
		}
	})
}

// TestALiveTwinClaimRefusesAtTheEnrollStepThroughCaddy: behind a
// case-blind SSO, alice completes her first enrollment and is held once
// her name's claim is written, before her phone is; ALICE (alice's
// password typed so) asks to enroll his own phone meanwhile: 403, the
// page's own words ("being set up right now", not "already has a
// phone": alice holds none yet; neither her name nor her number), no
// text sent, audited enrollment_refused_case with the realm and his name;
// then alice's completion enrolls her. On Badger and Redis, through a
// real Caddy. Before, the enroll step read no claim: ALICE was sent a
// text and refused only once he typed its code, told that the other
// account "already has a phone" (review26's F2).
func TestALiveTwinClaimRefusesAtTheEnrollStepThroughCaddy(t *testing.T) {
	sitetest.Parallel(t)
	sso := aliceSSO(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s, dir := caseBlindHeldSite(t, sso, claimedRealm, storeLine)
		thief, held := aliceCompletingHeld(t, s, dir)
		sent := s.Sent()
		res, _ := sitetest.EnrollWith(t, thief, "+14155550199")
		if res.StatusCode != http.StatusForbidden || !strings.Contains(res.Text, twinClaimedPage) || strings.Contains(res.Text, caseTwinPage) {
			t.Errorf("ALICE's enroll step while alice's claim lives: %d, want 403 and the claim's words:\n%s", res.StatusCode, res.Text)
		}
		if strings.Contains(res.Text, "alice") || strings.Contains(res.Text, "5550101") {
			t.Errorf("the page names alice or her number:\n%s", res.Text)
		}
		if s.Sent() != sent {
			t.Error("a code went to ALICE's phone")
		}
		sitetest.Expect(t, held.Release(t), http.StatusSeeOther, "/.smsgate/recovery")
		events := s.LogEntries("enrollment_refused_case")
		if len(events) != 1 || events[0]["user"] != "ALICE" || events[0]["realm"] != claimedRealm {
			t.Errorf("audit: %v", events)
		}
		st, out := s.Admin("GET", "/smsgate/users?realm="+claimedRealm, "")
		if st != http.StatusOK || strings.Count(out, `"user":`) != 1 || !strings.Contains(out, `"user":"alice"`) {
			t.Errorf("users: %d %s, want alice alone", st, out)
		}
	})
}

// aliceCompletingHeld signs alice and ALICE in at s (caseBlindHeldSite,
// its store held through dir) and parks alice's completion of her first
// enrollment after her name's claim, before her phone is written: it
// returns ALICE's client and the parked completion.
func aliceCompletingHeld(t *testing.T, s *sitetest.Site, dir string) (*sitetest.Client, *sitetest.Parked) {
	t.Helper()
	login := func(name string) *sitetest.Client {
		c := ssoLogin(t, name)
		sitetest.Expect(t, c.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/.smsgate/enroll")
		return c
	}
	alice := login("alice")
	res, tok := sitetest.EnrollWith(t, alice, "+14155550101")
	sitetest.Expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
	code := s.LastCode()
	thief := login("ALICE")
	sitetest.AddHold(t, dir, sitetest.Hold{Of: claimedRealm, Op: "write", Key: "twin/" + claimedRealm + "/*"})
	return thief, sitetest.Park(t, dir, func() *sitetest.Response {
		return alice.Post("/.smsgate/verify", url.Values{"code": {code}, "csrf": {tok}})
	})
}
