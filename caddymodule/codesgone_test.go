package caddymodule_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// withdrawnWords are the devices page's words for a removal that withdrew
// her recovery codes; withdrawnNotice the text her phones get.
const (
	withdrawnWords  = "Your recovery codes no longer work: they were made while signed in with the device you removed."
	withdrawnNotice = "your recovery codes no longer work"
)

// TestARemovalThatWithdrewHerCodesSaysSo: a thief holding alice's password
// and her phone makes recovery codes with it; alice removes the lost
// phone (devices page, admin API), which withdraws them (ab27eff) — the
// codes she saved too, if she made them with that phone. She must be told:
// the page says so and offers new ones at once (its button makes them),
// a JSON client reads recovery_codes_withdrawn, the admin's answer says
// it, her phones are texted, and the audit has recovery_codes_withdrawn
// (no code, no whole number). A removal of a device that made no codes
// claims nothing. On Badger and Redis, through a real Caddy. (Before:
// "The device was removed." and {"removed":…,"phones_told":1}, nothing
// more: she learned it when a code failed her.)
func TestARemovalThatWithdrewHerCodesSaysSo(t *testing.T) {
	eachRemoval(t, limitsOff, func(t *testing.T, by string, s *sitetest.Site, lost, kept string, _ func(*sitetest.Site) string) {
		thief, alice := sitetest.NewClient(t, "alice"), sitetest.NewClient(t, "alice")
		signInWith(t, s, thief, lost, false)
		stolen := renew(t, thief)
		signInWith(t, s, alice, kept, false)
		if said := removalSays(t, s, by, alice, lost); !said {
			t.Fatal("the removal that withdrew her recovery codes did not say so")
		}
		if n := noticesOf(s, withdrawnNotice); len(n) != 1 || !strings.HasSuffix(n[0], "→ +1•••••••672") {
			t.Fatalf("the notices of the withdrawal: %q; want one, to her phone left", n)
		}
		if by != "admin" {
			// The page's button makes new ones at once.
			page := alice.Get("/.smsgate/devices") // a fresh CSRF token, as the page holds one
			tok := sitetest.CSRFField.FindStringSubmatch(page.Text)[1]
			sitetest.Expect(t, alice.Post("/.smsgate/devices", url.Values{"action": {"recovery"}, "confirm": {"1"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/recovery")

			// A JSON client reads it; and a removal that signs this
			// browser out says it there (its own phone made them). An
			// hour on: her phones' notices are bounded in one
			// (enrollment.MaxNotices).
			s.Advance(time.Hour)
			third := addUser(t, s, "alice", "+14155552673")
			signInWith(t, s, thief, third, false)
			renew(t, thief)
			res := thief.PostJSON("/.smsgate/devices", s.Base, map[string]string{"action": "remove", "device": third})
			if res.StatusCode != http.StatusOK || !strings.Contains(res.Text, `"step":"signed_out"`) || !strings.Contains(res.Text, `"recovery_codes_withdrawn":true`) {
				t.Fatalf("a JSON removal that withdrew the codes: %d %s", res.StatusCode, res.Text)
			}
			fourth := addUser(t, s, "alice", "+14155552674")
			signInWith(t, s, thief, fourth, false)
			renew(t, thief)
			signInWith(t, s, alice, kept, false)
			res = alice.PostJSON("/.smsgate/devices", s.Base, map[string]string{"action": "remove", "device": fourth})
			if res.StatusCode != http.StatusOK || !strings.Contains(res.Text, `"step":"devices"`) || !strings.Contains(res.Text, `"recovery_codes_withdrawn":true`) {
				t.Fatalf("a JSON removal that withdrew the codes: %d %s", res.StatusCode, res.Text)
			}
		}

		// A removal that withdrew nothing claims nothing, nor texts it.
		renew(t, alice)
		other := addUser(t, s, "alice", "+14155552675")
		if said := removalSays(t, s, by, alice, other); said {
			t.Fatal("a removal that withdrew no recovery codes said it did")
		}
		want := map[string]int{"admin": 1, "devices page": 3}[by]
		if n := noticesOf(s, withdrawnNotice); len(n) != want {
			t.Fatalf("the notices of the withdrawals: %q; want %d", n, want)
		}
		log, err := os.ReadFile(s.LogFile)
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(log), `"event":"recovery_codes_withdrawn"`); n != want {
			t.Fatalf("%d recovery_codes_withdrawn audit events; want %d", n, want)
		}
		raw := strings.Join(strings.Fields(string(log)), "")
		for _, secret := range []string{stolen[0], "14155552672", "14155552671"} {
			if strings.Contains(raw, secret) {
				t.Fatalf("the log holds %s", secret)
			}
		}
	})
}

// removalSays removes alice's device id (by the devices page, a form, or
// the admin API), and reports whether the answer says her recovery codes
// were withdrawn; the page's answer, when it does, offers new ones.
func removalSays(t *testing.T, s *sitetest.Site, by string, alice *sitetest.Client, id string) bool {
	t.Helper()
	if by == "admin" {
		st, out := s.Admin("POST", "/smsgate/devices/remove", fmt.Sprintf(`{"realm":"localhost","user":"alice","id":%q}`, id))
		var answer struct {
			Withdrawn *bool `json:"recovery_codes_withdrawn"`
		}
		if st != http.StatusOK || json.Unmarshal([]byte(out), &answer) != nil || answer.Withdrawn == nil {
			t.Fatalf("the admin's removal: %d %s", st, out)
		}
		return *answer.Withdrawn
	}
	res := alice.Post("/.smsgate/devices", url.Values{"action": {"remove"}, "device": {id}, "confirm": {"1"}, "csrf": {alice.CSRF("/.smsgate/devices")}})
	sitetest.Expect(t, res, http.StatusOK, "")
	sitetest.ExpectBody(t, res, "The device was removed.")
	said := strings.Contains(res.Text, withdrawnWords)
	if said && !strings.Contains(res.Text, `<button type="submit" name="action" value="recovery">`) {
		t.Fatalf("the page says the codes were withdrawn, and offers no new ones:\n%s", res.Text)
	}
	return said
}

// noticesOf are the notices texted so far that hold words.
func noticesOf(s *sitetest.Site, words string) (n []string) {
	for _, m := range s.Notices() {
		if strings.Contains(m, words) {
			n = append(n, m)
		}
	}
	return n
}

// TestARemovalAskedAgainSaysWhetherItWithdrewTheCodes: a thief made
// recovery codes with a lost phone; its removal (devices page: dora's; the
// admin's: bob's) fails at the end of what the phone earned, before the
// codes are reached, and is asked again. The failed try claims no
// withdrawal; the one asked again withdrew them and says so (page, API,
// one notice); asked a third time, it claims none. On Badger and Redis,
// through a real Caddy. (Before: no try said anything.)
func TestARemovalAskedAgainSaysWhetherItWithdrewTheCodes(t *testing.T) {
	sitetest.Parallel(t)
	for _, by := range []string{"devices page", "admin"} {
		t.Run(by, func(t *testing.T) {
			sitetest.Parallel(t)
			user := map[string]string{"devices page": failingEnd, "admin": failingTrusts}[by]
			sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
				dir := t.TempDir()
				s := textSite(t, strings.Replace(storeLine, "store ", "store smsgate_test_hold "+dir+" ", 1), []string{user}, "\t\tremember 30d\n"+limitsOff)
				lost := addUser(t, s, user, "+14155552671")
				kept := addUser(t, s, user, "+14155552672")
				thief, owner := sitetest.NewClient(t, user), sitetest.NewClient(t, user)
				signInWith(t, s, thief, lost, false)
				renew(t, thief)
				signInWith(t, s, owner, kept, false)
				tok := owner.CSRF("/.smsgate/devices")
				remove := func() (int, string) {
					if by == "admin" {
						return s.Admin("POST", "/smsgate/devices/remove", fmt.Sprintf(`{"realm":"localhost","user":%q,"id":%q}`, user, lost))
					}
					res := owner.Post("/.smsgate/devices", url.Values{"action": {"remove"}, "device": {lost}, "confirm": {"1"}, "csrf": {tok}})
					if m := sitetest.CSRFField.FindStringSubmatch(res.Text); m != nil {
						tok = m[1]
					}
					return res.StatusCode, res.Text
				}
				says := func(out string) bool {
					return strings.Contains(out, withdrawnWords) || strings.Contains(out, `"recovery_codes_withdrawn":true`)
				}
				if by != "admin" {
					// Her own session's end, read first (the page's check
					// that it still lives), is spared: the removal's end fails.
					if err := os.WriteFile(filepath.Join(dir, "spare"), nil, 0o600); err != nil {
						t.Fatal(err)
					}
				}
				if err := os.WriteFile(filepath.Join(dir, "fail"), nil, 0o600); err != nil {
					t.Fatal(err)
				}
				st, out := remove()
				if err := os.Remove(filepath.Join(dir, "fail")); err != nil {
					t.Fatal(err)
				}
				if st == http.StatusOK || says(out) {
					t.Fatalf("a removal whose end failed: %d %s", st, out)
				}
				for i, want := range []bool{true, false} {
					st, out := remove()
					if st != http.StatusOK || says(out) != want {
						t.Fatalf("the removal asked again (%d): %d, says the codes were withdrawn: %v; want %v\n%s", i+1, st, says(out), want, out)
					}
				}
				if n := noticesOf(s, withdrawnNotice); len(n) != 1 {
					t.Fatalf("the notices of the withdrawal: %q; want one", n)
				}
			})
		})
	}
}

// TestTheConsolesRemovalSaysTheCodesWent: the admin's console removes
// alice's lost phone, with which a thief made recovery codes: the console
// says her codes went with it (they no longer work: she makes new ones).
// Through a real Caddy. (Before: "The device is removed." alone.)
func TestTheConsolesRemovalSaysTheCodesWent(t *testing.T) {
	sitetest.Parallel(t)
	s := textSite(t, "store badger {DIR}", []string{"alice", "bob"}, "\t\tadmins bob\n"+limitsOff)
	lost := addUser(t, s, "alice", "+14155552671")
	addUser(t, s, "alice", "+14155552672")
	addUser(t, s, "bob", "+14155552673")
	thief := sitetest.NewClient(t, "alice")
	signInWith(t, s, thief, lost, false)
	renew(t, thief)
	bob := sitetest.NewClient(t, "bob")
	signIn(t, s, bob)
	const console = "/.smsgate/admin/user?name=alice"
	page := bob.Get(console)
	remove := url.Values{"action": {"remove"}, "device": {lost}, "confirm": {"1"}, "csrf": {sitetest.CSRFField.FindStringSubmatch(page.Text)[1]}}
	res := sitetest.ConsoleDone(t, bob.PostWith(console, remove, map[string]string{"Origin": s.Base}), "remove_codes")
	sitetest.ExpectBody(t, res, "The device is removed, and with it the user&#39;s recovery codes")
}
