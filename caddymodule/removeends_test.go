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

// TestRemovingALostPhoneEndsWhatItEarned: a thief holds alice's password
// and her phone; he signs in with its code and has his browser trusted
// (30 days). Alice, in another browser, signed in with her other phone,
// removes the lost one on the devices page, or the admin removes it
// (admin API). The thief's session and his trusted browser are refused at
// once; the session that removed it stays, and so do a session and a
// trust another of her phones earned. On Badger and Redis, through a
// real Caddy. (Before, the removal ended nothing: the thief's session
// answered 200, and his trust signed him in again without a code.)
func TestRemovingALostPhoneEndsWhatItEarned(t *testing.T) {
	eachRemoval(t, "", func(t *testing.T, by string, s *sitetest.Site, lost, kept string, _ func(*sitetest.Site) string) {
		thief, other, alice := sitetest.NewClient(t, "alice"), sitetest.NewClient(t, "alice"), sitetest.NewClient(t, "alice")
		signInWith(t, s, thief, lost, true)
		signInWith(t, s, other, kept, true)
		signInWith(t, s, alice, kept, false)
		sitetest.ExpectBody(t, thief.Get("/"), "Hello, alice!")

		removePhone(t, s, by, alice, lost)
		if by != "admin" {
			sitetest.ExpectBody(t, alice.Get("/"), "Hello, alice!") // where she removed it
		}
		if res := thief.Get("/"); res.StatusCode == http.StatusOK {
			t.Fatalf("the thief's session outlived the removal of the phone that earned it: %s", res.Text)
		}
		if res := thief.Get("/.smsgate/login?rd=%2F"); res.StatusCode == http.StatusSeeOther && res.Header.Get("Location") == "/" {
			t.Fatal("the thief's trusted browser signed in again after the removal of the phone that earned it")
		}
		// Another phone's session and trust stay.
		sitetest.ExpectBody(t, other.Get("/"), "Hello, alice!")
		other.SetCookie("smsgate_session", "")
		sitetest.Expect(t, other.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/")
		if by == "admin" {
			sitetest.ExpectBody(t, alice.Get("/"), "Hello, alice!")
		}
	})
}

// eachRemoval runs test for a removal on the devices page and by the
// admin (by; only those of bys if given), on each store, at a site
// (remember 30d, and extra) where alice holds a phone she loses and one
// she keeps.
func eachRemoval(t *testing.T, extra string, test func(t *testing.T, by string, s *sitetest.Site, lost, kept string, keep func(*sitetest.Site) string), bys ...string) {
	sitetest.Parallel(t)
	if bys == nil {
		bys = []string{"devices page", "admin"}
	}
	for _, by := range bys {
		t.Run(by, func(t *testing.T) {
			sitetest.Parallel(t)
			sitetest.OnEachStore(t, func(t *testing.T, storeLine string, keep func(*sitetest.Site) string) {
				s := textSite(t, storeLine, []string{"alice"}, "\t\tremember 30d\n"+extra)
				lost := addUser(t, s, "alice", "+14155552671")
				kept := addUser(t, s, "alice", "+14155552672")
				test(t, by, s, lost, kept, keep)
			})
		})
	}
}

// removePhone removes alice's phone lost: on the devices page, in
// alice's browser, or by the admin (by "admin").
func removePhone(t *testing.T, s *sitetest.Site, by string, alice *sitetest.Client, lost string) {
	t.Helper()
	if by == "admin" {
		removeAsAdmin(t, s, "alice", lost)
		return
	}
	tok := alice.CSRF("/.smsgate/devices")
	sitetest.Expect(t, alice.Post("/.smsgate/devices", url.Values{"action": {"remove"}, "device": {lost}, "confirm": {"1"}, "csrf": {tok}}), http.StatusOK, "")
}

// removeAsAdmin removes user's device id through the admin API.
func removeAsAdmin(t *testing.T, s *sitetest.Site, user, id string) {
	t.Helper()
	if st, out := s.Admin("POST", "/smsgate/devices/remove", fmt.Sprintf(`{"realm":"localhost","user":%q,"id":%q}`, user, id)); st != http.StatusOK {
		t.Fatalf("removing %s's device %s: %d %s", user, id, st, out)
	}
}

// askACode has c, past the last send's cooldown, begin a sign-in and ask
// for a code to device; it returns the verify page's CSRF token.
func askACode(t *testing.T, s *sitetest.Site, c *sitetest.Client, device string) string {
	t.Helper()
	s.Advance(time.Minute) // past the last send's cooldown
	sitetest.Expect(t, c.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/.smsgate/verify")
	tok := c.CSRF("/.smsgate/verify")
	sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"action": {"send"}, "device": {device}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	return tok
}

// signInWith signs c in with device's code, its browser trusted if
// remember (the trust cookie checked).
func signInWith(t *testing.T, s *sitetest.Site, c *sitetest.Client, device string, remember bool) {
	t.Helper()
	tok := askACode(t, s, c, device)
	form := url.Values{"code": {s.LastCode()}, "csrf": {tok}}
	if remember {
		form.Set("remember", "1")
	}
	sitetest.Expect(t, c.Post("/.smsgate/verify", form), http.StatusSeeOther, "/")
	if remember && c.Cookie("smsgate_trust") == "" {
		t.Fatal("no trust cookie")
	}
}

// TestASignInRacingThePhonesRemovalDoesNotOutliveIt: the thief types the
// stolen phone's code (asking to be trusted) while the admin removes the
// phone. Whichever comes first, neither his session nor his trusted
// browser may live after both: a sign-in that checked the code while the
// phone was hers and listed its session after the removal read the list
// would otherwise keep it. On Badger and Redis, through a real Caddy.
func TestASignInRacingThePhonesRemovalDoesNotOutliveIt(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := textSite(t, storeLine, []string{"alice"}, "\t\tremember 30d\n"+limitsOff)
		addUser(t, s, "alice", "+14155552672")
		for i := range 20 {
			lost := addUser(t, s, "alice", fmt.Sprintf("+1415555%04d", 2700+i))
			thief := sitetest.NewClient(t, "alice")
			tok := askACode(t, s, thief, lost)
			code := s.LastCode()
			done := make(chan struct{})
			go func() {
				defer close(done)
				thief.Post("/.smsgate/verify", url.Values{"code": {code}, "csrf": {tok}, "remember": {"1"}})
			}()
			time.Sleep(time.Duration(i) * time.Millisecond / 2)
			removeAsAdmin(t, s, "alice", lost)
			<-done
			if res := thief.Get("/"); res.StatusCode == http.StatusOK {
				t.Fatalf("try %d: the thief's session outlived the removal of the phone it raced", i)
			}
			if res := thief.Get("/.smsgate/login?rd=%2F"); res.StatusCode == http.StatusSeeOther && res.Header.Get("Location") == "/" {
				t.Fatalf("try %d: the thief's trusted browser outlived the removal of the phone it raced", i)
			}
		}
	})
}

// TestRemovingALostPhoneEndsWhatItEarnedAtALoginForm: at a login form
// (identity none) the code's challenge finds the phone by its number; the
// session and trust it earns name the phone all the same, and end with
// its removal. (Before the check named the phone it found, they named
// none, and outlived the removal: 200.)
func TestRemovingALostPhoneEndsWhatItEarnedAtALoginForm(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	smsgate {
		realm localhost
		identity none
		enrollment closed
		remember 30d
		`+storeLine+`
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`)
		lost := addUser(t, s, "alice", "+14155552671")
		addUser(t, s, "alice", "+14155552672")
		thief := sitetest.NewClient(t, "")
		page := thief.Get("/.smsgate/login")
		tok := sitetest.CSRFField.FindStringSubmatch(page.Text)[1]
		sitetest.Expect(t, thief.Post("/.smsgate/login", url.Values{"username": {"alice"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
		sitetest.Expect(t, thief.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}, "remember": {"1"}}), http.StatusSeeOther, "/")
		sitetest.ExpectBody(t, thief.Get("/"), "Hello, alice!")
		removeAsAdmin(t, s, "alice", lost)
		if res := thief.Get("/"); res.StatusCode == http.StatusOK {
			t.Fatalf("the thief's session outlived the removal of the phone that earned it: %s", res.Text)
		}
		if res := thief.Get("/.smsgate/login?rd=%2F"); res.StatusCode == http.StatusSeeOther && res.Header.Get("Location") == "/" {
			t.Fatal("the thief's trusted browser signed in again after the removal of the phone that earned it")
		}
	})
}

// TestRemovingAnAppEndsWhatItEarnedNotARecoveryCodes: an app's secret
// leaks; a thief with alice's password signs in with its code and has his
// browser trusted, while alice signs in elsewhere with a recovery code.
// The admin removes the app: the thief's session and trust end (a device
// is any kind, not only a phone); the recovery code's session, which no
// device earned, and the session that added the app (earned by her phone)
// stay. On Badger and Redis, through a real Caddy.
func TestRemovingAnAppEndsWhatItEarnedNotARecoveryCodes(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := textSite(t, storeLine, []string{"alice"}, "\t\tremember 30d\n"+limitsOff)
		addUser(t, s, "alice", "+14155552671")
		owner := sitetest.NewClient(t, "alice")
		signIn(t, s, owner)
		secret, tok := appSetup(t, owner)
		sitetest.Expect(t, owner.Post("/.smsgate/devices", url.Values{"action": {"app-confirm"}, "code": {sitetest.AppCode(t, secret)}, "csrf": {tok}}), http.StatusOK, "")
		app := appOf(t, s, "alice")
		codes := renew(t, owner)
		s.Advance(30 * time.Second)

		thief := sitetest.NewClient(t, "alice")
		sitetest.Expect(t, thief.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/.smsgate/verify")
		vt := thief.CSRF("/.smsgate/verify")
		sitetest.Expect(t, thief.Post("/.smsgate/verify", url.Values{"action": {"app"}, "code": {sitetest.AppCode(t, secret)}, "csrf": {vt}, "remember": {"1"}}), http.StatusSeeOther, "/")
		if thief.Cookie("smsgate_trust") == "" {
			t.Fatal("no trust cookie")
		}
		rec := sitetest.NewClient(t, "alice")
		sitetest.Expect(t, rec.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/.smsgate/verify")
		rt := rec.CSRF("/.smsgate/verify")
		sitetest.Expect(t, rec.Post("/.smsgate/verify", url.Values{"code": {codes[0]}, "csrf": {rt}}), http.StatusSeeOther, "/")
		removeAsAdmin(t, s, "alice", app)
		if res := thief.Get("/"); res.StatusCode == http.StatusOK {
			t.Fatal("the thief's session outlived the removal of the app that earned it")
		}
		if res := thief.Get("/.smsgate/login?rd=%2F"); res.StatusCode == http.StatusSeeOther && res.Header.Get("Location") == "/" {
			t.Fatal("the thief's trusted browser signed in again after the removal of the app that earned it")
		}
		sitetest.ExpectBody(t, rec.Get("/"), "Hello, alice!")
		sitetest.ExpectBody(t, owner.Get("/"), "Hello, alice!")
	})
}

// TestAStepUpNamesItsOwnDevice: alice signs in with a phone in two
// browsers, trusting one of them, then each steps up with her other phone
// (new recovery codes, asked for past the 5-minute step-up). The lost
// first phone's removal by the admin leaves the browser that did not
// trust it signed in (its session names the phone that stepped it up,
// which she still holds) and ends the trusting browser's session with
// the trust it keeps (a step-up asking for no new trust keeps the
// browser's, and the removed phone earned that). On Badger and Redis,
// through a real Caddy.
func TestAStepUpNamesItsOwnDevice(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := textSite(t, storeLine, []string{"alice"}, "\t\tremember 30d\n"+limitsOff)
		lost := addUser(t, s, "alice", "+14155552671")
		kept := addUser(t, s, "alice", "+14155552672")
		code := func(c *sitetest.Client, device, tok string, form url.Values, to string) {
			t.Helper()
			s.Advance(time.Minute) // past the last send's cooldown
			sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"action": {"send"}, "device": {device}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
			form.Set("code", s.LastCode())
			form.Set("csrf", tok)
			sitetest.Expect(t, c.Post("/.smsgate/verify", form), http.StatusSeeOther, to)
		}
		trusting, plain := sitetest.NewClient(t, "alice"), sitetest.NewClient(t, "alice")
		for _, c := range []*sitetest.Client{trusting, plain} {
			sitetest.Expect(t, c.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/.smsgate/verify")
			form := url.Values{}
			if c == trusting {
				form.Set("remember", "1")
			}
			code(c, lost, c.CSRF("/.smsgate/verify"), form, "/")
		}
		s.Advance(6 * time.Minute) // past the step-up's 5 minutes
		for _, c := range []*sitetest.Client{trusting, plain} {
			sitetest.Expect(t, renewing(c, c.CSRF("/.smsgate/devices")), http.StatusSeeOther, "/.smsgate/verify")
			code(c, kept, c.CSRF("/.smsgate/verify"), url.Values{}, "/.smsgate/devices")
			sitetest.ExpectBody(t, c.Get("/"), "Hello, alice!")
		}
		removeAsAdmin(t, s, "alice", lost)
		sitetest.ExpectBody(t, plain.Get("/"), "Hello, alice!")
		if res := trusting.Get("/"); res.StatusCode == http.StatusOK {
			t.Fatal("a step-up keeping the removed phone's trust outlived its removal")
		}
		if res := trusting.Get("/.smsgate/login?rd=%2F"); res.StatusCode == http.StatusSeeOther && res.Header.Get("Location") == "/" {
			t.Fatal("the removed phone's trust signed the browser in again")
		}
	})
}

// failingTrusts is the user whose trusts a hold store's reads fail while
// its file "fail" exists; failingEnd's too, but not her revocations.
const failingTrusts, failingEnd = "bob", "dora"

// TestARemovalWhoseEndFailedEndsItWhenAskedAgain: the admin removes bob's
// lost phone, and the store fails the end of what it earned (its read of
// his trusts), after the phone went: the admin is told it failed, and asks
// again once the store is back. The second removal must end the thief's
// session and trust, not answer that bob holds no such device and leave
// them. On Badger and Redis, through a real Caddy. (Before: 400 "no such
// device", the thief's session 200 for good.)
func TestARemovalWhoseEndFailedEndsItWhenAskedAgain(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		dir := t.TempDir()
		s := textSite(t, strings.Replace(storeLine, "store ", "store smsgate_test_hold "+dir+" ", 1), []string{failingTrusts}, "\t\tremember 30d\n"+limitsOff)
		lost := addUser(t, s, failingTrusts, "+14155552671")
		addUser(t, s, failingTrusts, "+14155552672")
		thief := sitetest.NewClient(t, failingTrusts)
		signInWith(t, s, thief, lost, true)
		remove := func() (int, string) {
			return s.Admin("POST", "/smsgate/devices/remove", fmt.Sprintf(`{"realm":"localhost","user":%q,"id":%q}`, failingTrusts, lost))
		}
		if err := os.WriteFile(filepath.Join(dir, "fail"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		st, out := remove()
		if err := os.Remove(filepath.Join(dir, "fail")); err != nil {
			t.Fatal(err)
		}
		if st == http.StatusOK {
			t.Fatalf("a removal whose end failed answered %d %s", st, out)
		}
		if st, out := remove(); st != http.StatusOK {
			t.Fatalf("the removal asked again: %d %s", st, out)
		}
		if res := thief.Get("/"); res.StatusCode == http.StatusOK {
			t.Fatal("the thief's session outlived the removal asked again")
		}
		if res := thief.Get("/.smsgate/login?rd=%2F"); res.StatusCode == http.StatusSeeOther && res.Header.Get("Location") == "/" {
			t.Fatal("the thief's trusted browser outlived the removal asked again")
		}
	})
}

// lostPhoneSite is a real Caddy on storeLine through the hold store (its
// folder, dir) where user holds two phones: lost, which signed the thief's
// browser in with "trust this browser", and kept, which signed hers in.
func lostPhoneSite(t *testing.T, storeLine, user string) (s *sitetest.Site, dir, lost, kept string, thief, her *sitetest.Client) {
	dir = t.TempDir()
	s = textSite(t, strings.Replace(storeLine, "store ", "store smsgate_test_hold "+dir+" ", 1), []string{user}, "\t\tremember 30d\n"+limitsOff)
	lost = addUser(t, s, user, "+14155552671")
	kept = addUser(t, s, user, "+14155552672")
	thief, her = sitetest.NewClient(t, user), sitetest.NewClient(t, user)
	signInWith(t, s, thief, lost, true)
	signInWith(t, s, her, kept, false)
	return s, dir, lost, kept, thief, her
}

// TestARemovalWhoseEndFailedOnTheDevicesPageIsAskedAgainThere: dora
// removes her lost phone on the devices page, and the store fails the end
// of what it earned, after the phone went. The page must let her ask
// again — the phone is no longer listed there, and only a removal asked
// again ends the thief's session and trust (RemoveDevice) — and the ask
// must end them. On Badger and Redis, through a real Caddy. (Before: a
// bare 503, and the devices page without the phone: nothing to ask again
// with; the thief's session 200 for good.) Her other phone is told of the
// removal once, without saying browsers were signed out (before: it said
// so, with the thief's session still live).
func TestARemovalWhoseEndFailedOnTheDevicesPageIsAskedAgainThere(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s, dir, lost, _, thief, dora := lostPhoneSite(t, storeLine, failingEnd)
		tok := dora.CSRF("/.smsgate/devices")
		// Her own session's end, read first (the page's check that it
		// still lives), is spared: the removal's end fails.
		if err := os.WriteFile(filepath.Join(dir, "spare"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "fail"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		res := dora.Post("/.smsgate/devices", url.Values{"action": {"remove"}, "device": {lost}, "confirm": {"1"}, "csrf": {tok}})
		if err := os.Remove(filepath.Join(dir, "fail")); err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("a removal whose end failed: %d, want 503", res.StatusCode)
		}
		if !strings.Contains(res.Text, `name="device" value="`+lost+`"`) || !strings.Contains(res.Text, `name="confirm" value="1"`) {
			t.Fatalf("a removal whose end failed offers no way to ask again:\n%s", res.Text)
		}
		// Her phones are told once, and not that the thief's browser was
		// signed out: it was not yet.
		removals := func() (n []string) {
			for _, m := range s.Notices() {
				if strings.Contains(m, "was removed") {
					n = append(n, m)
				}
			}
			return n
		}
		if n := removals(); len(n) != 1 || strings.Contains(n[0], "signed out") {
			t.Fatalf("the notices of a removal whose end failed: %q", n)
		}
		again := sitetest.CSRFField.FindStringSubmatch(res.Text)[1]
		sitetest.Expect(t, dora.Post("/.smsgate/devices", url.Values{"action": {"remove"}, "device": {lost}, "confirm": {"1"}, "csrf": {again}}), http.StatusOK, "")
		sitetest.Expect(t, dora.Post("/.smsgate/devices", url.Values{"action": {"remove"}, "device": {lost}, "confirm": {"1"}, "csrf": {again}}), http.StatusOK, "")
		if n := removals(); len(n) != 1 {
			t.Fatalf("the notices of a removal asked again twice: %q", n)
		}
		if res := thief.Get("/"); res.StatusCode == http.StatusOK {
			t.Fatal("the thief's session outlived the removal asked again")
		}
		thief.SetCookie("smsgate_session", "")
		if res := thief.Get("/.smsgate/login?rd=%2F"); res.StatusCode == http.StatusSeeOther && res.Header.Get("Location") == "/" {
			t.Fatal("the thief's trusted browser outlived the removal asked again")
		}
		sitetest.ExpectBody(t, dora.Get("/"), "Hello, "+failingEnd+"!")
	})
}

// TestRemovingThePhoneThatSignedInEndsTheRemover: a thief holding alice's
// password and her stolen phone signs in with it, "trust this browser",
// and removes that phone on the devices page (a form, or JSON) from the
// very session it earned: his session and his trust end with everything
// else the phone earned, and the answer says he is signed out (no error,
// no devices page of a session that ended). His cookies sign nothing in. On Badger and Redis, through a real Caddy. (Before, the
// remover's session and trust were kept whatever signed them in: he kept
// signing in, and she could no longer remove the phone.)
func TestRemovingThePhoneThatSignedInEndsTheRemover(t *testing.T) {
	sitetest.Parallel(t)
	for _, how := range []string{"form", "json"} {
		t.Run(how, func(t *testing.T) {
			sitetest.Parallel(t)
			sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
				s := textSite(t, storeLine, []string{"alice"}, "\t\tremember 30d\n")
				stolen := addUser(t, s, "alice", "+14155552671")
				addUser(t, s, "alice", "+14155552672")
				thief := sitetest.NewClient(t, "alice")
				sitetest.Expect(t, thief.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/.smsgate/verify")
				tok := thief.CSRF("/.smsgate/verify")
				sitetest.Expect(t, thief.Post("/.smsgate/verify", url.Values{"action": {"send"}, "device": {stolen}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
				sitetest.Expect(t, thief.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}, "remember": {"1"}}), http.StatusSeeOther, "/")
				session, trust := thief.Cookie("smsgate_session"), thief.Cookie("smsgate_trust")
				if session == "" || trust == "" {
					t.Fatal("no session or trust cookie")
				}
				var res *sitetest.Response
				if how == "json" {
					res = thief.PostJSON("/.smsgate/devices", s.Base, map[string]string{"action": "remove", "device": stolen})
				} else {
					ct := thief.CSRF("/.smsgate/devices")
					res = thief.Post("/.smsgate/devices", url.Values{"action": {"remove"}, "device": {stolen}, "confirm": {"1"}, "csrf": {ct}})
				}
				if res.StatusCode != http.StatusOK || !strings.Contains(res.Text, map[string]string{"form": "You are signed out.", "json": `"step":"signed_out"`}[how]) {
					t.Fatalf("removing the phone that signed this browser in: %d %s", res.StatusCode, res.Text)
				}
				if thief.Cookie("smsgate_session") != "" {
					t.Error("the answer left the ended session's cookie")
				}
				thief.SetCookie("smsgate_session", session)
				thief.SetCookie("smsgate_trust", trust)
				if res := thief.Get("/"); res.StatusCode == http.StatusOK {
					t.Fatalf("the thief's session outlived the removal of the phone that earned it, asked from it: %s", res.Text)
				}
				thief.SetCookie("smsgate_session", "")
				if res := thief.Get("/.smsgate/login?rd=%2F"); res.StatusCode == http.StatusSeeOther && res.Header.Get("Location") == "/" {
					t.Fatal("the thief's trusted browser signed in again after removing the phone that earned it")
				}
			})
		})
	}
}
