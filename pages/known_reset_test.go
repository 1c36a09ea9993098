package pages_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestAResetEndsTheBrowsersItKnew: a thief with alice's phone signs in
// as her once, so the gate knows the thief's browser as alice's (the
// known-browser cookie, 400 days). The admin resets alice and gives her a
// new phone. Strangers then fill alice's window of checked guesses; the
// thief's browser must be one of them: refused with the window full, not
// given the owner's own window (where its codes would still be checked:
// twice the guesses the window promises). (Before, a reset, a revoke or
// a sign-out everywhere left every browser that ever signed in as the user
// known as the owner's, for 400 days.)
func TestAResetEndsTheBrowsersItKnew(t *testing.T) {
	sitetest.Parallel(t)
	knownEnded(t, func(s *sitetest.Site, thief *sitetest.Client, admin func(path, body string)) {
		admin("/smsgate/reset", `{"realm":"localhost","user":"alice"}`)
		s.Advance(time.Second)
		admin("/smsgate/users", `{"realm":"localhost","user":"alice","phone":"+14155552672"}`)
	}, false, false)
}

// TestAnEndedSessionEndsItsBrowsersKnownness: the thief's browser (a
// stolen one, or one the lost phone signed in) is the one the admin ends,
// by its session — the console's "End this session", the CLI's
// end-session — leaving alice's own browser signed in. The thief's browser
// must no longer be alice's known browser (its own window of guesses,
// which it could fill to lock alice out of hers), while alice's stays
// hers. (Before, the end of one session left its browser known as the
// owner's for 400 days: only a reset, revoke or sign-out everywhere ended
// that.)
func TestAnEndedSessionEndsItsBrowsersKnownness(t *testing.T) {
	sitetest.Parallel(t)
	knownEnded(t, func(s *sitetest.Site, thief *sitetest.Client, admin func(path, body string)) {
		list := alicesSessions(t, s)
		// The thief's session is the older one.
		admin("/smsgate/sessions/end", `{"realm":"localhost","user":"alice","id":"`+list[len(list)-1]+`"}`)
	}, true, false)
}

// TestAnEndedTrustedSessionEndsItsBrowsersKnownness: the thief's browser
// asked to be trusted, and signed in again by that trust; the admin ends
// the session it holds now (the newest). Its browser must no longer be
// known either: the known-browser cookie names the session of the
// browser's latest sign-in, by a code or by its trust. (Before this
// change's second half, the cookie named the session its code made, which
// the admin did not end.)
func TestAnEndedTrustedSessionEndsItsBrowsersKnownness(t *testing.T) {
	sitetest.Parallel(t)
	knownEnded(t, func(s *sitetest.Site, thief *sitetest.Client, admin func(path, body string)) {
		admin("/smsgate/sessions/end", `{"realm":"localhost","user":"alice","id":"`+alicesSessions(t, s)[0]+`"}`)
	}, false, true)
}

// alicesSessions are the IDs of alice's two sessions, newest first, as
// the admin API lists them.
func alicesSessions(t *testing.T, s *sitetest.Site) []string {
	t.Helper()
	return alicesSessionsOf(t, s, 2)
}

// alicesSessionsOf is alicesSessions where she has n.
func alicesSessionsOf(t *testing.T, s *sitetest.Site, n int) []string {
	t.Helper()
	_, out := s.Admin("GET", "/smsgate/sessions?realm=localhost&user=alice", "")
	var list []struct{ SID string }
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != n {
		t.Fatalf("alice's sessions: %v %s", err, out)
	}
	ids := make([]string, n)
	for i := range list {
		ids[i] = list[i].SID
	}
	return ids
}

// knownEnded signs a thief in as alice (and, with owner, alice in her own
// browser after it; with trusted, the thief's browser trusted and signed
// in again by its trust), has the admin end the thief's hold with end, then
// has strangers fill alice's window of checked guesses: the thief's
// browser must be refused with them, and alice's own (with owner) checked.
func knownEnded(t *testing.T, end func(s *sitetest.Site, thief *sitetest.Client, admin func(path, body string)), owner, trusted bool) {
	knownEndedOn(t, "badger {DIR}", end, owner, trusted)
}

// knownEndedOn is knownEnded on the store st (a store line's arguments).
func knownEndedOn(t *testing.T, st string, end func(s *sitetest.Site, thief *sitetest.Client, admin func(path, body string)), owner, trusted bool) {
	s := sitetest.StartWith(t, sitetest.TrustedProxies, `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		store `+st+`
		provider log
		limit guesses 5 1d
		remember 30d
	}
	respond "Hello, {http.auth.user.id}!"
}`)
	admin := func(path, body string) {
		t.Helper()
		if st, out := s.Admin("POST", path, body); st != http.StatusOK {
			t.Fatalf("%s: %d %s", path, st, out)
		}
	}
	admin("/smsgate/users", `{"realm":"localhost","user":"alice","phone":"+14155552671"}`)
	login := func(c *sitetest.Client) string {
		t.Helper()
		s.Advance(31 * time.Second) // past the login cooldown
		tok := c.CSRF("/.smsgate/login")
		sitetest.Expect(t, c.Post("/.smsgate/login", url.Values{"username": {"alice"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
		return tok
	}
	guess := func(c *sitetest.Client, tok string) int {
		return c.Post("/.smsgate/verify", url.Values{"code": {"AAAAA-AAAAA"}, "csrf": {tok}}).StatusCode
	}

	thief := sitetest.NewClient(t, "").From("192.0.2.66")
	tok := login(thief)
	remember := ""
	if trusted {
		remember = "1"
	}
	sitetest.Expect(t, thief.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}, "remember": {remember}}), http.StatusSeeOther, "/")
	if trusted {
		s.Advance(time.Second)
		thief.SetCookie("smsgate_session", "") // its session gone; its trust signs it in again
		sitetest.Expect(t, thief.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/")
	}
	alice := sitetest.NewClient(t, "").From("198.51.100.7")
	if owner {
		tok := login(alice)
		sitetest.Expect(t, alice.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")
	}

	s.Advance(time.Second)
	end(s, thief, admin)
	s.Advance(time.Second)

	// Strangers fill alice's window: 5 guesses checked, then refused.
	m := sitetest.NewClient(t, "").From("203.0.113.1")
	mtok := login(m)
	for i := range 5 {
		if st := guess(m, mtok); st != http.StatusBadRequest {
			t.Fatalf("stranger's guess %d: %d", i, st)
		}
	}
	m = sitetest.NewClient(t, "").From("203.0.113.2")
	if st := guess(m, login(m)); st != http.StatusTooManyRequests {
		t.Fatalf("a stranger's guess past the window: %d", st)
	}
	// The thief: refused as the strangers are (at the login, whose sends
	// the full window stops too, or at the code), never checked.
	s.Advance(31 * time.Second)
	ttok := thief.CSRF("/.smsgate/login")
	res := thief.Post("/.smsgate/login", url.Values{"username": {"alice"}, "csrf": {ttok}})
	if res.StatusCode == http.StatusSeeOther {
		res = thief.Post("/.smsgate/verify", url.Values{"code": {"AAAAA-AAAAA"}, "csrf": {ttok}})
	}
	if res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("after the admin ended its hold, the thief's browser was still alice's own: %d, past the strangers' full window (its guess checked)", res.StatusCode)
	}
	if owner {
		// alice's own browser: her window, her guess checked.
		if st := guess(alice, login(alice)); st != http.StatusBadRequest {
			t.Fatalf("alice's own known browser, with the strangers' window full: %d, want her guess checked (400)", st)
		}
	}
}

// TestAnEndedTrustEndsTheKnownnessOfItsUnlistedSessionsBrowser: the
// thief's browser asked to be trusted and signed in again by that trust;
// a copy of its cookies in a second browser then signs in by the same
// trust MaxListed times, pushing the first browser's session off alice's
// list. The admin ends the newest session, which ends the trust with
// every session of it; the first browser, whose known-browser cookie
// names the unlisted session, must no longer be known either: the cookie
// names the trust too (session.StillKnown). (Before: the admin's end
// marked only the listed sessions, and the first browser stayed alice's
// known one, 400 days.)
func TestAnEndedTrustEndsTheKnownnessOfItsUnlistedSessionsBrowser(t *testing.T) {
	sitetest.Parallel(t)
	knownEnded(t, func(s *sitetest.Site, thief *sitetest.Client, admin func(path, body string)) {
		copied := sitetest.NewClient(t, "").From("192.0.2.67")
		for _, name := range []string{"smsgate_trust", "smsgate_known"} {
			copied.SetCookie(name, thief.Cookie(name))
		}
		for range session.MaxListed {
			s.Advance(time.Second)
			copied.SetCookie("smsgate_session", "") // signed in again by the trust
			sitetest.Expect(t, copied.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/")
		}
		admin("/smsgate/sessions/end", `{"realm":"localhost","user":"alice","id":"`+alicesSessionsOf(t, s, session.MaxListed)[0]+`"}`)
	}, false, true)
}

// TestAnUntaggedKnownCookieIsKnownNoMore: TestAnEndedTrustEndsTheKnownness-
// OfItsUnlistedSessionsBrowser with the thief's known-browser cookie as a
// release before the cookie named its trust wrote it (no tb): the admin's
// end of the trust, whose session it names is off the list, cannot reach
// it, so such a cookie is not known any more (the browser is known again
// at its next sign-in). Before, it was known by its session's mark alone:
// the thief's code was checked (400), past the strangers' full window. On
// Redis, whose secret re-signs the cookie.
func TestAnUntaggedKnownCookieIsKnownNoMore(t *testing.T) {
	sitetest.Parallel(t)
	addr := redistest.Server(t)
	knownEndedOn(t, "redis "+addr, func(s *sitetest.Site, thief *sitetest.Client, admin func(path, body string)) {
		thief.SetCookie("smsgate_known", untagged(t, s, addr, thief.Cookie("smsgate_known")))
		copied := sitetest.NewClient(t, "").From("192.0.2.67")
		for _, name := range []string{"smsgate_trust", "smsgate_known"} {
			copied.SetCookie(name, thief.Cookie(name))
		}
		for range session.MaxListed {
			s.Advance(time.Second)
			copied.SetCookie("smsgate_session", "") // signed in again by the trust
			sitetest.Expect(t, copied.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/")
		}
		admin("/smsgate/sessions/end", `{"realm":"localhost","user":"alice","id":"`+alicesSessionsOf(t, s, session.MaxListed)[0]+`"}`)
	}, false, true)
}

// untagged is a known-browser cookie's token as a release before its tb
// claim signed it: the same claims without the trust.
func untagged(t *testing.T, s *sitetest.Site, addr, token string) string {
	t.Helper()
	rc := redis.NewClient(&redis.Options{Addr: addr})
	defer rc.Close()
	secret, err := rc.Get(context.Background(), "smsgate:keys/secret").Bytes()
	if err != nil {
		t.Fatal(err)
	}
	d, err := session.NewDerived(secret, s.Now)
	if err != nil {
		t.Fatal(err)
	}
	var cl session.Claims
	if err := d.Known.Verify(token, "localhost", &cl); err != nil || cl.Trust == nil || *cl.Trust == "" {
		t.Fatalf("not a known-browser cookie naming a trust: %v", err)
	}
	cl.Trust = nil
	if token, err = d.Known.Sign(&cl); err != nil {
		t.Fatal(err)
	}
	return token
}
