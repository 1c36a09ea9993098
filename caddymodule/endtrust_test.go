package caddymodule_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAnEndedSessionDoesNotComeBackByItsTrust: the admin sees a session
// they do not trust (a stolen password and phone) and ends it, on the
// console or through the admin API. The browser that held it asked to be
// trusted when it signed in: it must not sign in again with that trust
// at once, without a code. Both ways a session has a trust: its sign-in
// made it (alice), or it came from it (bob's second session). (Before,
// ending the session ended only the session: the next visit to the login
// page was a new one, without a code.)
func TestAnEndedSessionDoesNotComeBackByItsTrust(t *testing.T) {
	sitetest.Parallel(t)
	s := textSite(t, "store badger {DIR}", []string{"alice", "bob"}, "\t\tremember 30d\n")
	end := func(c *sitetest.Client) {
		t.Helper()
		_, out := s.Admin("GET", "/smsgate/sessions?realm=localhost&user="+c.User, "")
		var list []struct{ SID string }
		if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) == 0 {
			t.Fatalf("%s's sessions: %s", c.User, out)
		}
		st, out := s.Admin("POST", "/smsgate/sessions/end", fmt.Sprintf(`{"realm":"localhost","user":%q,"id":%q}`, c.User, list[0].SID))
		if st != http.StatusOK {
			t.Fatalf("ending %s's session: %d %s", c.User, st, out)
		}
		if res := c.Get("/"); res.StatusCode == http.StatusOK {
			t.Fatalf("%s's ended session: %s", c.User, res.Text)
		}
		if res := c.Get("/.smsgate/login?rd=%2F"); res.StatusCode == http.StatusSeeOther && res.Header.Get("Location") == "/" {
			t.Errorf("%s's browser signed in again with the trust of the session the admin ended", c.User)
		}
	}
	for _, c := range []*sitetest.Client{sitetest.NewClient(t, "alice"), sitetest.NewClient(t, "bob")} {
		addUser(t, s, c.User, map[string]string{"alice": "+14155552671", "bob": "+14155552672"}[c.User])
		tok := codeSent(t, c)
		sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}, "remember": {"1"}}), http.StatusSeeOther, "/")
		if c.User == "bob" {
			// bob's session ends (its cookie gone); the trust signs him in again.
			c.SetCookie("smsgate_session", "")
			sitetest.Expect(t, c.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/")
			sitetest.ExpectBody(t, c.Get("/"), "Hello, bob!")
		}
		end(c)
	}
}

// TestAnEndedSessionOfATrustedBrowserDoesNotComeBackByItsTrust: a browser
// alice trusted signs her in again with a code, without asking to be
// trusted again (a step-up: the devices page, a max_age route); it keeps
// the trust it holds. The admin ends the session it holds now: the browser
// must not sign in again with its trust at once, without a code. (Before,
// only a session whose sign-in made the trust, or that came from it,
// ended it: the next visit to the login page was a new session.)
func TestAnEndedSessionOfATrustedBrowserDoesNotComeBackByItsTrust(t *testing.T) {
	sitetest.Parallel(t)
	s := textSite(t, "store badger {DIR}", []string{"alice"}, "\t\tremember 30d\n")
	alice := sitetest.NewClient(t, "alice")
	addUser(t, s, "alice", "+14155552671")
	tok := codeSent(t, alice)
	sitetest.Expect(t, alice.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}, "remember": {"1"}}), http.StatusSeeOther, "/")
	trust := alice.Cookie("smsgate_trust")
	if trust == "" {
		t.Fatal("no trust cookie")
	}

	// A code again, trust not asked for: the browser keeps its trust.
	tok = codeSent(t, alice)
	sitetest.Expect(t, alice.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")
	if alice.Cookie("smsgate_trust") != trust {
		t.Fatal("the trust cookie changed")
	}
	sid := sessionID(t, alice.Cookie("smsgate_session"))
	st, out := s.Admin("POST", "/smsgate/sessions/end", fmt.Sprintf(`{"realm":"localhost","user":"alice","id":%q}`, sid))
	if st != http.StatusOK {
		t.Fatalf("ending alice's session: %d %s", st, out)
	}
	if res := alice.Get("/"); res.StatusCode == http.StatusOK {
		t.Fatalf("alice's ended session: %s", res.Text)
	}
	if res := alice.Get("/.smsgate/login?rd=%2F"); res.StatusCode == http.StatusSeeOther && res.Header.Get("Location") == "/" {
		t.Errorf("the browser signed in again with its trust after the admin ended its session")
	}
}

// sessionID is the sid of a session token.
func sessionID(t *testing.T, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("a session token: %q", token)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	var cl struct{ SID string }
	if err == nil {
		err = json.Unmarshal(raw, &cl)
	}
	if err != nil || cl.SID == "" {
		t.Fatalf("a session token's sid: %s %v", raw, err)
	}
	return cl.SID
}

// TestANewTrustReplacesTheBrowsersOld: a browser alice trusted signs her
// in with a code again (a step-up) and asks to be trusted again. Its new
// trust replaces the one it held (under its ID: TestEndingAReTrusted-
// BrowserEndsAllItWasTrustedFor): the devices page lists it once, the old
// trust cookie signs nobody in, and another browser's trust stays. On Badger and
// Redis, through a real Caddy. (Before, the old trust stayed in alice's
// list with no cookie pointing at it, for its 30 days, and took a place
// among the 20 she may hold, so re-trusting one browser 20 times ended
// her other browsers' trusts.)
func TestANewTrustReplacesTheBrowsersOld(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := textSite(t, storeLine, []string{"alice"}, "\t\tremember 30d\n")
		addUser(t, s, "alice", "+14155552671")
		trusted := func(c *sitetest.Client) string {
			t.Helper()
			tok := codeSent(t, c)
			sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}, "remember": {"1"}}), http.StatusSeeOther, "/")
			if c.Cookie("smsgate_trust") == "" {
				t.Fatal("no trust cookie")
			}
			return c.Cookie("smsgate_trust")
		}
		other, alice := sitetest.NewClient(t, "alice"), sitetest.NewClient(t, "alice")
		otherTrust := trusted(other)
		old := trusted(alice)
		s.Advance(time.Minute) // a token of its own (its trust's ID is kept: attack38)
		if trusted(alice) == old {
			t.Fatal("the trust cookie did not change")
		}
		alice.Accept = "application/json"
		var page struct {
			Trusted []struct {
				This bool `json:"this_browser"`
			} `json:"trusted_browsers"`
		}
		if res := alice.Get("/.smsgate/devices"); json.Unmarshal([]byte(res.Text), &page) != nil || len(page.Trusted) != 2 || page.Trusted[0].This || !page.Trusted[1].This {
			t.Fatalf("alice's trusted browsers, want the other one and this one: %s", res.Text)
		}
		signsIn := func(trust string) bool {
			c := sitetest.NewClient(t, "alice")
			c.SetCookieFor(c.Base()+"/.smsgate/", "smsgate_trust", trust)
			res := c.Get("/.smsgate/login?rd=%2F")
			return res.StatusCode == http.StatusSeeOther && res.Header.Get("Location") == "/"
		}
		if signsIn(old) {
			t.Error("the trust the browser gave up still signs in")
		}
		if !signsIn(otherTrust) {
			t.Error("the other browser's trust ended")
		}
	})
}

// TestAnEndedSessionEndsTheTrustItHeldWithRememberOff: the admin turned
// remember off; a browser alice trusted before keeps its trust record (it
// signs her in again once remember is back on), and signs in with a code.
// The admin ends that session: its trust must end too, or turning
// remember on again would sign the browser in without a code. (Before, a
// code sign-in named the trust it held only while remember was on.)
func TestAnEndedSessionEndsTheTrustItHeldWithRememberOff(t *testing.T) {
	sitetest.Parallel(t)
	s := textSite(t, "store badger {DIR}", []string{"alice"}, "\t\tremember 30d\n")
	storeLine := "store badger " + s.Store
	alice := sitetest.NewClient(t, "alice")
	addUser(t, s, "alice", "+14155552671")
	tok := codeSent(t, alice)
	sitetest.Expect(t, alice.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}, "remember": {"1"}}), http.StatusSeeOther, "/")
	if alice.Cookie("smsgate_trust") == "" {
		t.Fatal("no trust cookie")
	}

	s = textSite(t, storeLine, []string{"alice"}, "\t\tremember off\n")
	alice.SetCookie("smsgate_session", "")
	signIn(t, s, alice)
	sid := sessionID(t, alice.Cookie("smsgate_session"))
	st, out := s.Admin("POST", "/smsgate/sessions/end", fmt.Sprintf(`{"realm":"localhost","user":"alice","id":%q}`, sid))
	if st != http.StatusOK {
		t.Fatalf("ending alice's session: %d %s", st, out)
	}

	s = textSite(t, storeLine, []string{"alice"}, "\t\tremember 30d\n")
	alice.SetCookie("smsgate_session", "")
	if res := alice.Get("/.smsgate/login?rd=%2F"); res.StatusCode == http.StatusSeeOther && res.Header.Get("Location") == "/" {
		t.Errorf("remember on again: the browser signed in with the trust its ended session held")
	}
}

// TestAnEndedSessionDoesNotComeBackByItsTrustMeanwhile: the admin ends a
// session of alice's they do not trust (the admin API); its browser, which
// asked to be trusted at its sign-in, visits the site while the end is
// being made, as a browser in use does. The end is held once the session
// was revoked (at its write of alice's list of sessions), and the browser,
// refused, goes to the login page: it must not be signed in again by its
// trust, then or after the end was answered. On Badger and on Redis,
// through a real Caddy. (Before, the end revoked the session first and
// ended its trust last: the browser signed in again by the trust in
// between, 303 to /, and its new session outlived the end: 200 Hello,
// alice!)
func TestAnEndedSessionDoesNotComeBackByItsTrustMeanwhile(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		dir := t.TempDir()
		s := rememberingHoldSite(t, storeLine, dir)
		c := sitetest.NewClient(t, "alice")
		tok := codeSent(t, c)
		sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}, "remember": {"1"}}), http.StatusSeeOther, "/")
		sid := sessionID(t, c.Cookie("smsgate_session"))
		sitetest.AddHold(t, dir, sitetest.Hold{Of: "alice", Op: "write", Key: "sessions/*/alice"}) // at its write of her list of sessions
		end := sitetest.Park(t, dir, func() *sitetest.Response {
			res, err := http.Post(s.WithPorts("http://localhost:{ADMIN_PORT}/smsgate/sessions/end"), "application/json",
				strings.NewReader(fmt.Sprintf(`{"realm":"localhost","user":"alice","id":%q}`, sid)))
			if err != nil {
				return &sitetest.Response{Response: &http.Response{StatusCode: 0}, Text: err.Error()}
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			return &sitetest.Response{Response: res, Text: string(b)}
		})
		sitetest.Expect(t, c.Get("/"), http.StatusFound, "/.smsgate/login?rd=%2F")
		again := c.Get("/.smsgate/login?rd=%2F")
		if res := end.Release(t); res.StatusCode != http.StatusOK {
			t.Fatalf("ending alice's session: %d %s", res.StatusCode, res.Text)
		}
		if again.StatusCode == http.StatusSeeOther && again.Header.Get("Location") == "/" {
			t.Errorf("the browser signed in again by the trust of the session the admin was ending")
		}
		if res := c.Get("/"); res.StatusCode == http.StatusOK {
			t.Fatalf("the browser of the session the admin ended, once the end was answered: %s", res.Text)
		}
	})
}

// TestAnEndedSessionEndsItsTrustsOtherSessions: a thief trusted the
// browser at the sign-in the admin sees (a stolen password and phone),
// then dropped its session cookie and got another session from the
// trust, before the admin ended the first: the end ended the trust, and
// the first session, but the other session the trust made stood for its
// lifetime. Now ending a session ends every listed session of the same
// trust.
func TestAnEndedSessionEndsItsTrustsOtherSessions(t *testing.T) {
	sitetest.Parallel(t)
	s := textSite(t, "store badger {DIR}", []string{"alice"}, "\t\tremember 30d\n")
	thief := sitetest.NewClient(t, "alice")
	addUser(t, s, "alice", "+14155552671")
	tok := codeSent(t, thief)
	sitetest.Expect(t, thief.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}, "remember": {"1"}}), http.StatusSeeOther, "/")
	first := sessionID(t, thief.Cookie("smsgate_session"))
	thief.SetCookie("smsgate_session", "")
	sitetest.Expect(t, thief.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/")
	sitetest.ExpectBody(t, thief.Get("/"), "Hello, alice!")
	if sessionID(t, thief.Cookie("smsgate_session")) == first {
		t.Fatal("the trust made no other session")
	}

	st, out := s.Admin("POST", "/smsgate/sessions/end", fmt.Sprintf(`{"realm":"localhost","user":"alice","id":%q}`, first))
	if st != http.StatusOK {
		t.Fatalf("ending alice's first session: %d %s", st, out)
	}
	if res := thief.Get("/"); res.StatusCode == http.StatusOK {
		t.Fatalf("the session the ended session's trust made stands: %s", res.Text)
	}
	if _, out := s.Admin("GET", "/smsgate/sessions?realm=localhost&user=alice", ""); strings.TrimSpace(out) != "[]" {
		t.Errorf("alice's sessions after the end: %s", out)
	}
}
