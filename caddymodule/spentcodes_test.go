package caddymodule_test

import (
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

// TestTheThiefsSetWithACodeSpentEndsWithThePhone: a thief holding alice's
// password and her phone makes recovery codes with its session, and signs
// another browser in with one of them. Alice removes the lost phone
// (devices page, admin API): the codes left must go with it, and the
// session the spent code earned must end with it too, or the removal cut
// off nothing. On Badger and Redis, through a real Caddy. (Before: a set
// with a code spent was no longer known as the one the phone made, so
// its other codes signed him in again, and the spent code's session lived
// on: "Hello, alice!" both.)
func TestTheThiefsSetWithACodeSpentEndsWithThePhone(t *testing.T) {
	eachRemoval(t, "", func(t *testing.T, by string, s *sitetest.Site, lost, kept string, _ func(*sitetest.Site) string) {
		thief, alice := sitetest.NewClient(t, "alice"), sitetest.NewClient(t, "alice")
		signInWith(t, s, thief, lost, false)
		stolen := renew(t, thief)
		other := recoveryBrowser(t, s, stolen[0])
		signInWith(t, s, alice, kept, false)
		removePhone(t, s, by, alice, lost)
		if res := other.Get("/"); res.StatusCode == http.StatusOK {
			t.Errorf("the session a code of the thief's set earned outlived the removal: %s", res.Text)
		}
		if recoverySignIn(t, s, stolen[1]) {
			t.Error("a code of the thief's set, one of its codes spent, signed him in after the removal")
		}
		sitetest.ExpectBody(t, alice.Get("/"), "Hello, alice!")
	})
}

// TestCodesMadeFromTheThiefsCodesSessionEndWithThePhone: the thief signs
// in with a code of the set the stolen phone's session made, and from
// that session makes a new set: it is the phone's too, and goes with it.
// (Before: it named no device, and signed him in after the removal.)
func TestCodesMadeFromTheThiefsCodesSessionEndWithThePhone(t *testing.T) {
	eachRemoval(t, "", func(t *testing.T, by string, s *sitetest.Site, lost, kept string, _ func(*sitetest.Site) string) {
		thief, alice := sitetest.NewClient(t, "alice"), sitetest.NewClient(t, "alice")
		signInWith(t, s, thief, lost, false)
		first := renew(t, thief)
		again := renew(t, recoveryBrowser(t, s, first[0]))
		signInWith(t, s, alice, kept, false)
		removePhone(t, s, by, alice, lost)
		if recoverySignIn(t, s, again[0]) {
			t.Error("a code the thief made from his recovery code's session signed him in after the removal")
		}
		// Her own set, made with the phone she keeps, and a session one of
		// its codes earned, outlive the removal of another phone.
		mine := renew(t, alice)
		hers := recoveryBrowser(t, s, mine[0])
		removePhone(t, s, by, alice, addUser(t, s, "alice", "+14155552673"))
		sitetest.ExpectBody(t, hers.Get("/"), "Hello, alice!")
		if !recoverySignIn(t, s, mine[1]) {
			t.Error("a code of her own set no longer signs her in after another phone's removal")
		}
	})
}

// recoveryBrowser is a new browser signed in as alice with code.
func recoveryBrowser(t *testing.T, s *sitetest.Site, code string) *sitetest.Client {
	t.Helper()
	s.Advance(time.Minute)
	c := sitetest.NewClient(t, "alice")
	sitetest.Expect(t, c.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"code": {code}, "csrf": {c.CSRF("/.smsgate/verify")}}), http.StatusSeeOther, "/")
	sitetest.ExpectBody(t, c.Get("/"), "Hello, alice!")
	return c
}

// TestTheThiefsSetWithACodeSpentEndsWithItsProvisionedNumber: as above,
// with alice's phone the config's (`user` line): the thief makes codes
// with its session, spends one, and the admin gives alice a new number
// and reloads. The codes left go with the number. On Badger and Redis,
// through a real Caddy. (Before: "Hello, alice!" with the next code.)
func TestTheThiefsSetWithACodeSpentEndsWithItsProvisionedNumber(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, keep func(*sitetest.Site) string) {
		user := func(number string) string { return "\t\tuser alice " + number + "\n" }
		s := textSite(t, storeLine, []string{"alice"}, user("+14155552671"))
		thief := sitetest.NewClient(t, "alice")
		signIn(t, s, thief)
		stolen := renew(t, thief)
		recoveryBrowser(t, s, stolen[0])
		s = textSite(t, keep(s), []string{"alice"}, user("+447400123456"))
		if recoverySignIn(t, s, stolen[1]) {
			t.Fatal("a code of the thief's set, one of its codes spent, signed him in after the config took the number away")
		}
	})
}

// TestACodeOfASetItsDevicesRemovalLeftSignsNobodyIn: the admin removes
// bob's lost phone, with whose session a thief made recovery codes, and
// the store fails the end of what it earned, after the phone went and
// before the codes were reached; nobody asks again. The thief's code signs
// nobody in: its sign-in names the removed phone. On Badger and Redis,
// through a real Caddy. (Before: it named no device, and signed him in.)
func TestACodeOfASetItsDevicesRemovalLeftSignsNobodyIn(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		dir := t.TempDir()
		s := textSite(t, strings.Replace(storeLine, "store ", "store smsgate_test_hold "+dir+" ", 1), []string{failingTrusts}, limitsOff)
		lost := addUser(t, s, failingTrusts, "+14155552671")
		addUser(t, s, failingTrusts, "+14155552672")
		thief := sitetest.NewClient(t, failingTrusts)
		signInWith(t, s, thief, lost, false)
		stolen := renew(t, thief)
		fail := filepath.Join(dir, "fail")
		if err := os.WriteFile(fail, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		st, out := s.Admin("POST", "/smsgate/devices/remove", fmt.Sprintf(`{"realm":"localhost","user":%q,"id":%q}`, failingTrusts, lost))
		if err := os.Remove(fail); err != nil {
			t.Fatal(err)
		}
		if st == http.StatusOK {
			t.Fatalf("a removal whose end failed: %d %s", st, out)
		}
		s.Advance(time.Minute)
		c := sitetest.NewClient(t, failingTrusts)
		sitetest.Expect(t, c.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/.smsgate/verify")
		c.Post("/.smsgate/verify", url.Values{"code": {stolen[0]}, "csrf": {c.CSRF("/.smsgate/verify")}})
		if res := c.Get("/"); res.StatusCode == http.StatusOK {
			t.Fatalf("a code of the set the removed phone's session made signed in: %s", res.Text)
		}
	})
}

// TestCodesMadeFromTheOldNumbersCodeSessionEndWithTheNumber: the thief
// makes codes with alice's config phone's session, signs another browser
// in with one and makes a new set there; the admin gives alice a new
// number and reloads. That set's codes sign nobody in: a code's session
// names the number whose session made its set, so the set it renews is
// the number's too. On Badger and Redis, through a real Caddy. (Before:
// the code's session named no number, nor did the set it made, and its
// code said "Hello, alice!" after the reload.)
func TestCodesMadeFromTheOldNumbersCodeSessionEndWithTheNumber(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, keep func(*sitetest.Site) string) {
		user := func(number string) string { return "\t\tuser alice " + number + "\n" }
		s := textSite(t, storeLine, []string{"alice"}, user("+14155552671"))
		thief := sitetest.NewClient(t, "alice")
		signIn(t, s, thief)
		second := renew(t, recoveryBrowser(t, s, renew(t, thief)[0]))
		s = textSite(t, keep(s), []string{"alice"}, user("+447400123456"))
		if recoverySignIn(t, s, second[0]) {
			t.Fatal("a code of the set the thief made from his code's session signed him in after the config took the number away")
		}
	})
}
