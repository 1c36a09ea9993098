package caddymodule_test

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// These tests' hold store (sitetest.HoldStore) can fail the reads of
// revocations (a session's check that it is still live), and of
// failingTrusts's trusts (a removal's end of what the device earned:
// TestARemovalWhoseEndFailedEndsItWhenAskedAgain), and of failingEnd's
// trusts alone (her own revocations read, and her devices' ends, which
// her known-browser cookie's check reads: her devices page answers,
// TestARemovalWhoseEndFailedOnTheDevicesPageIsAskedAgainThere). Where it
// holds a request is each test's own rule (sitetest.AddHold).
func init() {
	sitetest.Holds.Fail = func(key string) bool {
		if strings.HasSuffix(key, "/"+failingCount) || strings.Contains(key, "/"+failingCount+"/") { // TestTheDevicesPageSaysNothingOfRecoveryCodesItCannotCount
			return key == "recovery/localhost/"+failingCount
		}
		return strings.HasPrefix(key, "revoked") && !strings.HasSuffix(key, "/"+failingEnd) && !strings.Contains(key, "/"+failingEnd+"/") ||
			key == "trusted/localhost/"+failingTrusts || key == "trusted/localhost/"+failingEnd ||
			strings.HasPrefix(key, "provisioned-number/") // TestAProvisionedPhoneTakenAwayWhileTheStoreIsDownEndsOnceItIsBack
	}
}

// holdSite is textSite for alice, on the store of storeLine held by a
// sitetest.HoldStore in dir.
func holdSite(t *testing.T, storeLine, dir string) *sitetest.Site {
	t.Helper()
	s := textSite(t, strings.Replace(storeLine, "store ", "store smsgate_test_hold "+dir+" ", 1), []string{"alice"}, limitsOff)
	addUser(t, s, "alice", "+14155552671")
	return s
}

// renew has c make new recovery codes, and returns them.
func renew(t *testing.T, c *sitetest.Client) []string {
	t.Helper()
	sitetest.Expect(t, renewing(c, c.CSRF("/.smsgate/devices")), http.StatusSeeOther, "/.smsgate/recovery")
	var codes []string
	for _, m := range sitetest.RecoveryCode.FindAllStringSubmatch(c.Get("/.smsgate/recovery").Text, -1) {
		codes = append(codes, m[1])
	}
	if len(codes) != 10 {
		t.Fatalf("%d new recovery codes", len(codes))
	}
	return codes
}

func renewing(c *sitetest.Client, tok string) *sitetest.Response {
	return c.Post("/.smsgate/devices", url.Values{"action": {"recovery"}, "confirm": {"1"}, "csrf": {tok}})
}

// parkedRenewal has c, alice's, ask for new recovery codes, held once
// they are written (sitetest.Park).
func parkedRenewal(t *testing.T, c *sitetest.Client, dir string) *sitetest.Parked {
	t.Helper()
	sitetest.AddHold(t, dir, sitetest.Hold{Of: "alice", Op: "write", Key: "recovery/*/alice"})
	tok := c.CSRF("/.smsgate/devices")
	return sitetest.Park(t, dir, func() *sitetest.Response { return renewing(c, tok) })
}

// signOut ends c's session from another tab (a copy of its cookie), so
// that c's request in flight is one of an ended session.
func signOut(t *testing.T, c *sitetest.Client) {
	t.Helper()
	tab := sitetest.NewClient(t, "alice")
	tab.SetCookie("smsgate_session", c.Cookie("smsgate_session"))
	sitetest.ExpectBody(t, tab.Post("/.smsgate/logout", url.Values{"csrf": {tab.CSRF("/.smsgate/devices")}}), "You are signed out")
}

// signsInWith reports whether a new browser of alice signs in with the
// recovery code.
func signsInWith(t *testing.T, code string) bool {
	t.Helper()
	c := sitetest.NewClient(t, "alice")
	res := c.Post("/.smsgate/verify", url.Values{"code": {code}, "csrf": {c.CSRF("/.smsgate/verify")}})
	return res.StatusCode == http.StatusSeeOther && res.Header.Get("Location") == "/"
}

// TestAnUndoneRenewalLeavesAnotherSessionsCodes: alice asks for new
// recovery codes in browser A; they are written, and A's session ends
// (signed out in another tab) before the renewal checks it is still live.
// Meanwhile browser B, signed in too, makes new codes and shows them. A's
// renewal is undone, and must not take B's codes with it. On Badger and
// Redis, through a real Caddy. (Before, the undo deleted whatever set was
// stored: B's browser showed codes that did not work.)
func TestAnUndoneRenewalLeavesAnotherSessionsCodes(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		dir := t.TempDir()
		s := holdSite(t, storeLine, dir)
		a, b := sitetest.NewClient(t, "alice"), sitetest.NewClient(t, "alice")
		signIn(t, s, a)
		signIn(t, s, b)
		done := parkedRenewal(t, a, dir)
		signOut(t, a)
		shown := renew(t, b)
		sitetest.Expect(t, done.Release(t), http.StatusSeeOther, "/.smsgate/login")
		if !signsInWith(t, shown[0]) {
			t.Fatal("the codes browser B was shown do not sign in: the undo of A's renewal took them")
		}
	})
}

// TestARenewalNotKeptLeavesTheCodesItReplaced: alice has recovery codes
// (saved, printed) and asks for new ones; they are written, and then the
// renewal is not kept: its session ended meanwhile, or the store could not
// say whether it had (the re-check's read fails). The new codes are not
// shown (503, or the sign-in page), and alice's codes are the ones she
// had — unless the session ended by an admin's reset, which leaves none. On Badger and Redis, through a real Caddy. (Before, the undo
// deleted the new set after it had replaced the old one: alice was left
// with no recovery codes, and was not told.)
func TestARenewalNotKeptLeavesTheCodesItReplaced(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		var resetAlice func(t *testing.T)
		for _, tc := range []struct {
			name   string
			end    func(t *testing.T, c *sitetest.Client, dir string)
			status int
			to     string
			kept   bool // alice's saved codes are hers still
		}{
			{"ended", func(t *testing.T, c *sitetest.Client, _ string) { signOut(t, c) }, http.StatusSeeOther, "/.smsgate/login", true},
			{"unreadable", func(t *testing.T, _ *sitetest.Client, dir string) {
				if err := os.WriteFile(filepath.Join(dir, "fail"), nil, 0o600); err != nil {
					t.Fatal(err)
				}
			}, http.StatusServiceUnavailable, "", true},
			// An admin's reset removes every code, and the undo, coming
			// after it, must not put the old set back.
			{"reset", func(t *testing.T, _ *sitetest.Client, _ string) { resetAlice(t) }, http.StatusSeeOther, "/.smsgate/login", false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				dir := t.TempDir()
				s := holdSite(t, storeLine, dir)
				resetAlice = func(t *testing.T) {
					if st, out := s.Admin("POST", "/smsgate/reset", `{"realm":"localhost","user":"alice"}`); st != http.StatusOK {
						t.Fatalf("resetting alice: %d %s", st, out)
					}
				}
				c := sitetest.NewClient(t, "alice")
				signIn(t, s, c)
				saved := renew(t, c)
				done := parkedRenewal(t, c, dir)
				tc.end(t, c, dir)
				res := done.Release(t)
				_ = os.Remove(filepath.Join(dir, "fail"))
				sitetest.Expect(t, res, tc.status, tc.to)
				if sitetest.RecoveryCode.MatchString(res.Text) {
					t.Fatalf("the renewal not kept showed its codes:\n%s", res.Text)
				}
				if !tc.kept {
					addUser(t, s, "alice", "+14155552671") // a sign-in page to try the codes on
				}
				if kept := signsInWith(t, saved[0]); kept != tc.kept {
					t.Fatalf("alice's saved recovery codes sign in: %v, want %v", kept, tc.kept)
				}
			})
		}
	})
}
