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
	"github.com/smsgate/caddy-smsgate/session"
)

// TestASessionPushedOffTheListCanStillBeEnded: an intruder's browser,
// trusted, signs in once with a code and then 20 times more by its trust,
// a second apart: the list of alice's sessions keeps the newest 20, so the
// first is no longer listed and the admin cannot end it alone. The admin
// API (GET sessions/unlisted) and bob's console say one more exists; the
// console's button ends it (POST sessions/end-unlisted, the API's own
// code), with the trust it made and every session of that trust: the
// first session is refused, and so is the newest, and the browser signs
// in by its trust no more. Through a real Caddy. (Before, nothing said it
// existed, and only a revoke of every session ended it.)
func TestASessionPushedOffTheListCanStillBeEnded(t *testing.T) {
	sitetest.Parallel(t)
	s := textSite(t, "store badger {DIR}", []string{"alice", "bob"}, "\t\tremember 30d\n\t\tadmins bob\n")
	addUser(t, s, "alice", "+14155552671")
	addUser(t, s, "bob", "+14155552672")
	thief, first, _ := pushOffTheList(t, s)
	st, out := s.Admin("GET", "/smsgate/sessions/unlisted?realm=localhost&user=alice", "")
	var unlisted session.Unlisted
	if err := json.Unmarshal([]byte(out), &unlisted); st != http.StatusOK || err != nil || unlisted.Count != 1 {
		t.Fatalf("the sessions pushed off alice's list: %d %s; want 1", st, out)
	}
	bob := sitetest.NewClient(t, "bob")
	signIn(t, s, bob)
	const console = "/.smsgate/admin/user?name=alice"
	page := bob.Get(console)
	sitetest.ExpectBody(t, page, "Sessions pushed off this list by newer ones: 1")
	end := url.Values{"action": {"end-unlisted"}, "csrf": {sitetest.CSRFField.FindStringSubmatch(page.Text)[1]}}
	res := sitetest.ConsoleDone(t, bob.PostWith(console, end, map[string]string{"Origin": s.Base}), "end-unlisted")
	sitetest.ExpectBody(t, res, "The sessions not listed have ended")
	if strings.Contains(res.Text, "Sessions pushed off this list") {
		t.Errorf("the console still counts the sessions not listed, once ended")
	}
	if res := first.Get("/"); res.StatusCode == http.StatusOK {
		t.Errorf("the first session, pushed off the list, after the admin ended those: %s", res.Text)
	}
	// The newest, listed, came from the same trust: it ends too (before
	// 3c26349 it stayed, with the 19 beside it, for its lifetime).
	if res := thief.Get("/"); res.StatusCode == http.StatusOK {
		t.Errorf("the trust's newest session, listed, after the admin ended the trust's: %s", res.Text)
	}
	thief.SetCookie("smsgate_session", "")
	if res := thief.Get("/.smsgate/login?rd=%2F"); res.StatusCode == http.StatusSeeOther && res.Header.Get("Location") == "/" {
		t.Errorf("the browser signed in again by the trust its first session, ended, made")
	}
	if _, out := s.Admin("GET", "/smsgate/sessions/unlisted?realm=localhost&user=alice", ""); json.Unmarshal([]byte(out), &unlisted) != nil || unlisted.Count != 0 {
		t.Errorf("the sessions pushed off alice's list, once ended: %s", out)
	}
}

// TestEndingASessionEndsItsTrustsSessionsPushedOffTheList: an intruder's
// browser, trusted, signs in with a code and then 20 times more by its
// trust, pushing its first session off alice's list. The admin sees the
// newest and ends it (POST sessions/end): every session of that trust
// ends, the first too, though no list names it, and alice's own session
// stays. Through a real Caddy. (Before, the end ended the trust and its
// listed sessions: the first stayed live for its lifetime, 12 h, and only
// the count of sessions not listed said it existed.)
func TestEndingASessionEndsItsTrustsSessionsPushedOffTheList(t *testing.T) {
	sitetest.Parallel(t)
	s := textSite(t, "store badger {DIR}", []string{"alice"}, "\t\tremember 30d\n")
	addUser(t, s, "alice", "+14155552671")
	alice := sitetest.NewClient(t, "alice")
	signIn(t, s, alice)
	thief, first, list := pushOffTheList(t, s)
	for _, l := range list {
		if l.SID == sessionID(t, first.Cookie("smsgate_session")) || l.SID == sessionID(t, alice.Cookie("smsgate_session")) {
			t.Fatalf("the first session, or alice's own, is still listed: %+v", list)
		}
	}
	if st, out := s.Admin("POST", "/smsgate/sessions/end", fmt.Sprintf(`{"realm":"localhost","user":"alice","id":%q}`, list[0].SID)); st != http.StatusOK {
		t.Fatalf("ending the newest session: %d %s", st, out)
	}
	if res := first.Get("/"); res.StatusCode == http.StatusOK {
		t.Errorf("the trust's first session, pushed off the list, after the admin ended the trust's newest: %s", res.Text)
	}
	if res := thief.Get("/"); res.StatusCode == http.StatusOK {
		t.Errorf("the session the admin ended: %s", res.Text)
	}
	thief.SetCookie("smsgate_session", "")
	if res := thief.Get("/.smsgate/login?rd=%2F"); res.StatusCode == http.StatusSeeOther && res.Header.Get("Location") == "/" {
		t.Errorf("the browser signed in again by the trust of the session ended")
	}
	sitetest.ExpectBody(t, alice.Get("/"), "Hello, alice!")
}

// pushOffTheList signs alice in with a code in a browser that asks to be
// trusted (the thief), then MaxListed times more by its trust, a second
// apart, so that the first session (first, a browser holding its cookie)
// is no longer listed; it answers alice's sessions as the admin API lists
// them.
func pushOffTheList(t *testing.T, s *sitetest.Site) (thief, first *sitetest.Client, list []session.Info) {
	t.Helper()
	thief = sitetest.NewClient(t, "alice")
	tok := codeSent(t, thief)
	sitetest.Expect(t, thief.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}, "remember": {"1"}}), http.StatusSeeOther, "/")
	first = sitetest.NewClient(t, "alice")
	first.SetCookie("smsgate_session", thief.Cookie("smsgate_session"))
	for range session.MaxListed {
		s.Advance(time.Second)
		thief.SetCookie("smsgate_session", "")
		sitetest.Expect(t, thief.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/")
	}
	sitetest.ExpectBody(t, first.Get("/"), "Hello, alice!")
	_, out := s.Admin("GET", "/smsgate/sessions?realm=localhost&user=alice", "")
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != session.MaxListed {
		t.Fatalf("alice's sessions: %v %s", err, out)
	}
	return thief, first, list
}
