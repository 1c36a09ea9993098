package caddymodule_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// twinPageOf checks the enroll page a case twin meets before she types a
// number (walk29, 61-63): 403, its own page, who she is signed in as, the
// refusal's words (want) on no phone field, a way out (sign out), nothing
// of the other account's name or number, and nothing sent.
func twinPageOf(t *testing.T, s *sitetest.Site, c *sitetest.Client, who, want string, also ...string) {
	t.Helper()
	sent := s.Sent()
	res := c.Get("/.smsgate/enroll")
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("GET enroll: %d, want 403:\n%s", res.StatusCode, res.Text)
	}
	for _, w := range append([]string{want, who, `action="/.smsgate/logout"`}, also...) {
		if !strings.Contains(res.Text, w) {
			t.Errorf("GET enroll: no %q in\n%s", w, res.Text)
		}
	}
	for _, w := range []string{`name="phone"`, `aria-invalid`, `action="/.smsgate/enroll"`, "alice", "5550101"} {
		if strings.Contains(res.Text, w) {
			t.Errorf("GET enroll: %q in\n%s", w, res.Text)
		}
	}
	if s.Sent() != sent {
		t.Error("a code was sent")
	}
}

// TestACaseTwinMeetsHerOwnPageBeforeANumber: basic_auth holds alice and
// Alice; alice enrolled. Alice's enroll page is the twin's own page (403):
// `You are signed in as <code class="name">Alice</code>.`, the refusal's words, what she can do,
// a Sign out that signs her out; in German too; no phone field, nothing
// sent. Her POST of a number is refused as before (403, the words). On
// Badger and Redis. Before, the form was shown and she was refused only
// once she had typed a number, as an error on the number (walk29, 61, 62).
func TestACaseTwinMeetsHerOwnPageBeforeANumber(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := sitetest.Start(t, fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	basic_auth argon2id {
		alice %[1]s
		Alice %[1]s
	}
	smsgate {
		%[2]s
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`, sitetest.DemoHash, storeLine))
		sitetest.Enroll(t, s, sitetest.NewClient(t, "alice"), "+14155550101")
		Alice := sitetest.NewClient(t, "Alice")
		sitetest.Expect(t, Alice.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/.smsgate/enroll")
		twinPageOf(t, s, Alice, `You are signed in as <code class="name">Alice</code>.`, caseTwinPage, "ask your administrator to sort out the two accounts", "Sign out")
		de := sitetest.NewClient(t, "Alice")
		de.Header = http.Header{"Accept-Language": {"de"}}
		sitetest.Expect(t, de.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/.smsgate/enroll")
		twinPageOf(t, s, de, `Sie sind als <code class="name">Alice</code> angemeldet.`, "nur in Groß- und Kleinschreibung, Leerzeichen oder unsichtbaren Zeichen", "Bitten Sie Ihren Administrator", "Abmelden")
		// The POST's refusal stands (a twin who appears between the page and it).
		sent := s.Sent()
		tok := Alice.CSRF("/.smsgate/enroll")
		res := Alice.Post("/.smsgate/enroll", url.Values{"phone": {"+14155550103"}, "csrf": {tok}})
		if res.StatusCode != http.StatusForbidden || !strings.Contains(res.Text, caseTwinPage) || s.Sent() != sent {
			t.Fatalf("Alice's POST: %d (%d sent), want 403 and the words:\n%s", res.StatusCode, s.Sent()-sent, res.Text)
		}
		if res := Alice.Post("/.smsgate/logout", url.Values{"csrf": {tok}}); res.StatusCode != http.StatusOK || !strings.Contains(res.Text, "You are signed out.") {
			t.Fatalf("Sign out: %d\n%s", res.StatusCode, res.Text)
		}
		if n, ok := usersOf(t, s)["Alice"]; ok {
			t.Fatalf("Alice holds %d devices", n)
		}
	})
}

// TestATwinBeingSetUpMeetsTheSamePageWithTryAgain: behind a case-blind SSO,
// alice's first enrollment holds her name's claim (held before her phone
// is written); ALICE's enroll page is the twin's page with the claim's
// words ("try again in a few minutes") and a Try again; nothing sent
// (walk29, 63).
func TestATwinBeingSetUpMeetsTheSamePageWithTryAgain(t *testing.T) {
	sitetest.Parallel(t)
	sso := aliceSSO(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s, dir := caseBlindHeldSite(t, sso, claimedRealm, storeLine)
		thief, held := aliceCompletingHeld(t, s, dir)
		twinPageOf(t, s, thief, `You are signed in as <code class="name">ALICE</code>.`, twinClaimedPage, `href="/.smsgate/enroll" id="retry"`)
		sitetest.Expect(t, held.Release(t), http.StatusSeeOther, "/.smsgate/recovery")
	})
}

// TestATwinEnrolledMeanwhileIsTheAdminsToSortOut: basic_auth holds alice,
// ALICE and Alice; alice and ALICE each ask for a first phone's code, then
// Alice enrolls hers. alice's right code is refused (403), on the twin's
// page: who she is signed in as, that her code was right and her
// administrator must sort out the two accounts, Sign out; no "exact name"
// (the other account is not hers), no code field; in German too (ALICE).
// On Badger and Redis.
// Before, the verify page told alice herself to "Sign in with that
// account's exact name", with no way on but "Not you?" (walk33, 65).
func TestATwinEnrolledMeanwhileIsTheAdminsToSortOut(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		twinEnrolledMeanwhile(t, sitetest.Start(t, fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	basic_auth argon2id {
		alice %[1]s
		ALICE %[1]s
		Alice %[1]s
	}
	smsgate {
		%[2]s
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`, sitetest.DemoHash, storeLine)))
	})
}

// twinEnrolledMeanwhile is TestATwinEnrolledMeanwhileIsTheAdminsToSortOut
// on site s.
func twinEnrolledMeanwhile(t *testing.T, s *sitetest.Site) {
	codes := map[string]string{}
	toks := map[string]string{}
	clients := map[string]*sitetest.Client{}
	for i, name := range []string{"alice", "ALICE"} {
		c := sitetest.NewClient(t, name)
		sitetest.Expect(t, c.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/.smsgate/enroll")
		res, tok := sitetest.EnrollWith(t, c, fmt.Sprintf("+1415555010%d", i+1))
		sitetest.Expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
		codes[name], toks[name], clients[name] = s.LastCode(), tok, c
	}
	sitetest.Enroll(t, s, sitetest.NewClient(t, "Alice"), "+14155550109")
	for _, c := range []struct{ name, lang, who, late, what, out string }{
		{"alice", "en", `You are signed in as <code class="name">alice</code>.`, "Your code was right, but meanwhile another account, whose name differs from yours only in capital letters, spacing or invisible characters, got a phone", "Your administrator has to sort out the two accounts", "Sign out"},
		{"ALICE", "de", `Sie sind als <code class="name">ALICE</code> angemeldet.`, "Ihr Code war richtig, aber inzwischen hat ein anderes Konto", "Ihr Administrator muss die beiden Konten klären", "Abmelden"},
	} {
		res := clients[c.name].PostWith("/.smsgate/verify", url.Values{"code": {codes[c.name]}, "csrf": {toks[c.name]}}, map[string]string{"Accept-Language": c.lang})
		if res.StatusCode != http.StatusForbidden {
			t.Fatalf("%s's right code: %d, want 403:\n%s", c.name, res.StatusCode, res.Text)
		}
		for _, w := range []string{c.who, c.late, c.what, c.out, `action="/.smsgate/logout"`} {
			if !strings.Contains(res.Text, w) {
				t.Errorf("%s: no %q in\n%s", c.name, w, res.Text)
			}
		}
		for _, w := range []string{"exact name", "genauem Namen", `name="code"`, "Alice", "0109"} {
			if strings.Contains(res.Text, w) {
				t.Errorf("%s: %q in\n%s", c.name, w, res.Text)
			}
		}
	}
	if users := usersOf(t, s); users["alice"] != 0 || users["ALICE"] != 0 || users["Alice"] != 1 {
		t.Fatalf("users: %v", users)
	}
}
