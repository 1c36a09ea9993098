package caddymodule_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// caseTwinPage is what the enroll page says to a name that differs only in
// case from an enrolled user's.
const caseTwinPage = "differs only in capital letters, spacing or invisible characters from an account that already has a phone"

// caseTwinLatePage is what the twin's page says where her first phone's
// right code is refused: a twin got a phone since her code was sent.
const caseTwinLatePage = "whose name differs from yours only in capital letters, spacing or invisible characters, got a phone"

// caseBlindSSO is an SSO whose logins ignore case and that passes the name
// as typed (X-Login: ALICE for alice's password → Remote-User: ALICE), as
// nginx's auth_basic over LDAP does, behind a real Caddy on Badger and on
// a real Redis (attack22's demonstration). Like LDAP's caseIgnoreMatch it
// compares names without the characters RFC 4518 maps to nothing
// (ldapPrep): "alic\u034fe" logs in with alice's password.
func caseBlindSSO(t *testing.T) (on func(name string, run func(t *testing.T, s *sitetest.Site)), login func(t *testing.T, name string) *sitetest.Client) {
	sso := ssoStub(t, func(login string) bool { return strings.EqualFold(ldapPrep(login), "alice") || login == "bob" })
	on = func(name string, run func(t *testing.T, s *sitetest.Site)) {
		t.Run(name, func(t *testing.T) {
			sitetest.Parallel(t)
			sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
				run(t, behindSSO(t, sso, storeLine, "provider log"))
			})
		})
	}
	return on, ssoLogin
}

// usersOf is the realm's enrolled users, from the admin API.
func usersOf(t *testing.T, s *sitetest.Site) map[string]int {
	t.Helper()
	st, out := s.Admin("GET", "/smsgate/users?realm=localhost", "")
	if st != http.StatusOK {
		t.Fatalf("users: %d %s", st, out)
	}
	var list []struct {
		User    string            `json:"user"`
		Devices []json.RawMessage `json:"devices"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("users: %v: %s", err, out)
	}
	users := map[string]int{}
	for _, u := range list {
		users[u.User] = len(u.Devices)
	}
	return users
}

// TestACaseBlindSSOsOtherSpellingEnrollsNoSecondAlice: alice enrolled her
// phone; whoever holds her password signs in at an SSO that ignores case
// as ALICE, a user the gate never saw, and with enrollment open (trust on
// first use) would enroll his own phone as ALICE, whom an app that ignores
// case takes for her. His enrollment is refused where it begins (403, the
// page saying why, no code sent), and ALICE holds no device; bob still
// enrolls. Before, the thief's phone was enrolled and signed him in.
func TestACaseBlindSSOsOtherSpellingEnrollsNoSecondAlice(t *testing.T) {
	sitetest.Parallel(t)
	on, login := caseBlindSSO(t)
	on("begun", func(t *testing.T, s *sitetest.Site) {
		sitetest.Enroll(t, s, login(t, "alice"), "+14155550101")
		thief := login(t, "ALICE")
		sitetest.Expect(t, thief.Get("/"), http.StatusFound, "/.smsgate/login?rd=%2F")
		sitetest.Expect(t, thief.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/.smsgate/enroll")
		sent := s.Sent()
		res, _ := sitetest.EnrollWith(t, thief, "+14155550199")
		if res.StatusCode != http.StatusForbidden || !strings.Contains(res.Text, caseTwinPage) {
			t.Fatalf("ALICE's first phone: %d, want 403 and the page:\n%s", res.StatusCode, res.Text)
		}
		if strings.Contains(res.Text, "alice") || strings.Contains(res.Text, "5550101") {
			t.Fatalf("the page names the enrolled user or her number:\n%s", res.Text)
		}
		if s.Sent() != sent {
			t.Fatal("a code went to the thief's phone")
		}
		if res := thief.Get("/"); res.StatusCode == http.StatusOK {
			t.Fatalf("the thief got in: %q", res.Text)
		}
		if n, ok := usersOf(t, s)["ALICE"]; ok {
			t.Fatalf("ALICE holds %d devices", n)
		}
		events := s.LogEntries("enrollment_refused_case")
		if len(events) != 1 || events[0]["user"] != "ALICE" || events[0]["realm"] != "localhost" {
			t.Fatalf("audit: %v", events)
		}
		if line := fmt.Sprint(events[0]); strings.Contains(line, "alice") || strings.Contains(line, "phone") {
			t.Fatalf("the audit line names the enrolled user or a number: %s", line)
		}
		// JSON callers are refused alike.
		res = thief.PostJSON("/.smsgate/enroll", s.Base, map[string]string{"phone": "+14155550199"})
		if res.StatusCode != http.StatusForbidden || !strings.Contains(res.Text, "capital letters") {
			t.Fatalf("ALICE's first phone, as JSON: %d %s", res.StatusCode, res.Text)
		}
		sitetest.Enroll(t, s, login(t, "bob"), "+14155550102")
	})
	// A code sent to ALICE's (and Alice's, aLiCe's) first phone before
	// alice enrolled hers enrolls nothing once she did: refused where the
	// device would be written; nor does another code go out for it, nor a
	// new one to the number whose code died of wrong tries.
	on("completed", func(t *testing.T, s *sitetest.Site) {
		alice, thief, other := login(t, "alice"), login(t, "ALICE"), login(t, "Alice")
		begin := func(c *sitetest.Client, num string) (code, tok string) {
			sitetest.Expect(t, c.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/.smsgate/enroll")
			res, tok := sitetest.EnrollWith(t, c, num)
			sitetest.Expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
			return s.LastCode(), tok
		}
		code, tok := begin(thief, "+14155550199")
		_, otherTok := begin(other, "+14155550198")
		third := login(t, "aLiCe") // her code died of wrong tries: "send a code" would go to the same number
		thirdCode, thirdTok := begin(third, "+14155550197")
		for range 5 {
			third.Post("/.smsgate/verify", url.Values{"code": {sitetest.WrongCode(thirdCode)}, "csrf": {thirdTok}})
		}
		sitetest.Enroll(t, s, alice, "+14155550101")
		res := thief.Post("/.smsgate/verify", url.Values{"code": {code}, "csrf": {tok}})
		if res.StatusCode != http.StatusForbidden || !strings.Contains(res.Text, caseTwinLatePage) {
			t.Fatalf("ALICE's code, sent before alice enrolled: %d, want 403:\n%s", res.StatusCode, res.Text)
		}
		s.Advance(2 * time.Minute) // Alice's cooldown over: "send again" would send
		sent := s.Sent()
		res = other.Post("/.smsgate/verify", url.Values{"action": {"resend"}, "csrf": {otherTok}})
		if res.StatusCode != http.StatusForbidden || !strings.Contains(res.Text, caseTwinPage) || s.Sent() != sent {
			t.Fatalf("another code for Alice's first phone: %d (%d sent), want 403 and none:\n%s", res.StatusCode, s.Sent()-sent, res.Text)
		}
		res = third.Post("/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {thirdTok}})
		if res.StatusCode != http.StatusForbidden || !strings.Contains(res.Text, caseTwinPage) || s.Sent() != sent {
			t.Fatalf("a new code for aLiCe's first phone, its code dead: %d (%d sent), want 403 and none:\n%s", res.StatusCode, s.Sent()-sent, res.Text)
		}
		users := usersOf(t, s)
		if len(users) != 1 || users["alice"] != 1 {
			t.Fatalf("users: %v, want alice's one phone", users)
		}
		if res := thief.Get("/"); res.StatusCode == http.StatusOK {
			t.Fatalf("the thief got in: %q", res.Text)
		}
	})
}

// TestAliceAndAliceOnBasicAuthAreTheAdminsToEnroll: basic_auth holds alice
// and Alice, two users with two passwords. Once alice enrolled, Alice's own
// first enrollment is refused with the page (403); the admin's adding of a
// phone for Alice (the admin API) is not: the admin decides, and Alice
// signs in with it.
func TestAliceAndAliceOnBasicAuthAreTheAdminsToEnroll(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	basic_auth argon2id {
		alice %[1]s
		Alice %[1]s
	}
	smsgate {
		store badger {DIR}
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`, sitetest.DemoHash))
	sitetest.Enroll(t, s, sitetest.NewClient(t, "alice"), "+14155550101")
	Alice := sitetest.NewClient(t, "Alice")
	sitetest.Expect(t, Alice.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/.smsgate/enroll")
	res, _ := sitetest.EnrollWith(t, Alice, "+14155550103")
	if res.StatusCode != http.StatusForbidden || !strings.Contains(res.Text, caseTwinPage) {
		t.Fatalf("Alice's first phone: %d, want 403 and the page:\n%s", res.StatusCode, res.Text)
	}
	if st, out := s.Admin("POST", "/smsgate/users", `{"realm":"localhost","user":"Alice","phone":"+14155550103"}`); st != http.StatusOK {
		t.Fatalf("the admin's phone for Alice: %d %s", st, out)
	}
	if users := usersOf(t, s); users["Alice"] != 1 || users["alice"] != 1 {
		t.Fatalf("users: %v", users)
	}
	sitetest.Expect(t, Alice.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/.smsgate/verify")
	tok := Alice.CSRF("/.smsgate/verify")
	sitetest.Expect(t, Alice.Post("/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, Alice.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")
	if res := Alice.Get("/"); res.StatusCode != http.StatusOK || !strings.Contains(res.Text, "Hello, Alice!") {
		t.Fatalf("Alice with the admin's phone: %d %q", res.StatusCode, res.Text)
	}
}

// TestAConfigUsersCaseTwinEnrollsNothing: alice is the config's (`user
// alice +1…`: her phone in the config, no device record), behind a
// case-blind SSO with enrollment open. ALICE (her password typed in
// capitals) is refused his own first phone (403, the page), nothing is
// sent and he does not get in; on Badger and Redis. Before, he enrolled
// it and was greeted "Hello ALICE" (review23's F1).
func TestAConfigUsersCaseTwinEnrollsNothing(t *testing.T) {
	sitetest.Parallel(t)
	sso := aliceSSO(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := behindSSO(t, sso, "user alice +14155550101", storeLine, "provider log")
		thief := ssoLogin(t, "ALICE")
		sitetest.Expect(t, thief.Get("/"), http.StatusFound, "/.smsgate/login?rd=%2F")
		sent := s.Sent()
		res, _ := sitetest.EnrollWith(t, thief, "+14155550199")
		if res.StatusCode != http.StatusForbidden || !strings.Contains(res.Text, caseTwinPage) || s.Sent() != sent {
			t.Fatalf("ALICE's first phone: %d (%d sent), want 403 and the page:\n%s", res.StatusCode, s.Sent()-sent, res.Text)
		}
		if res := thief.Get("/"); res.StatusCode == http.StatusOK {
			t.Fatalf("the thief got in as ALICE: %q", res.Text)
		}
		if n, ok := usersOf(t, s)["ALICE"]; ok {
			t.Fatalf("ALICE holds %d device(s)", n)
		}
	})
}
