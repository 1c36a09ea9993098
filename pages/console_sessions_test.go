package pages_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store/storetest"
)

// sessionRow finds, on a console's user page, the row of the session
// whose text holds what, and returns its session ID.
func sessionRow(t *testing.T, page, what string) string {
	t.Helper()
	for _, row := range strings.Split(page, "<tr>") {
		if m := regexpSession.FindStringSubmatch(row); m != nil && strings.Contains(row, what) {
			return m[1]
		}
	}
	t.Fatalf("no session row with %q:\n%s", what, page)
	return ""
}

var regexpSession = regexp.MustCompile(`name="session" value="([^"]+)"`)

// TestConsoleSessions, through a real Caddy: carol signs in from two
// browsers; her page on the console lists both (when, how, where), newest
// first; alice ends one, which is signed out within the revocation poll
// while the other is not; the admin API lists and ends the other the
// same way; each end is audited with who did it; an unknown session is a
// clear 404, and a cross-origin form is refused.
func TestConsoleSessions(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, sitetest.NamedUsersSite)
	laptop, phone, admin := sitetest.NewClient(t, ""), sitetest.NewClient(t, ""), sitetest.NewClient(t, "")
	laptop.Header = http.Header{"User-Agent": {sitetest.FirefoxOnLinux}}
	phone.Header = http.Header{"User-Agent": {sitetest.SafariOnIPhone}}
	sitetest.SignInAs(t, s, laptop, "carol")
	sitetest.SignInAs(t, s, phone, "carol")
	sitetest.SignInAs(t, s, admin, "alice")

	path := "/.smsgate/admin/user?name=carol"
	page := admin.Get(path)
	sitetest.Expect(t, page, http.StatusOK, "")
	for _, want := range []string{`<h3 id="sessions">Sessions</h3>`, "Firefox on Linux, at localhost:{HTTP_PORT}", "Safari on iOS, at localhost:{HTTP_PORT}", "<td>Text message", ">End this session</button>"} {
		sitetest.ExpectBody(t, page, want)
	}
	if n := strings.Count(page.Text, `name="action" value="end"`); n != 2 {
		t.Fatalf("%d sessions listed, want 2:\n%s", n, page.Text)
	}
	if strings.Index(page.Text, "Safari on iOS") > strings.Index(page.Text, "Firefox on Linux") {
		t.Fatal("the older session is listed first")
	}
	laptopSID, phoneSID := sessionRow(t, page.Text, "Firefox"), sessionRow(t, page.Text, "Safari")
	tok := sitetest.CSRFField.FindStringSubmatch(page.Text)[1]

	// A cross-origin form ends nothing.
	end := url.Values{"action": {"end"}, "session": {laptopSID}, "csrf": {tok}}
	sitetest.Expect(t, consolePost(admin, path, end, "http://evil.localhost"), http.StatusForbidden, "")
	// Alice ends the laptop's session: the laptop is out, the phone in.
	res := sitetest.ConsoleDone(t, consolePost(admin, path, end, s.Base), "end")
	sitetest.ExpectBody(t, res, "The session has ended")
	if strings.Contains(res.Text, "Firefox on Linux") || !strings.Contains(res.Text, "Safari on iOS") {
		t.Fatalf("after ending the laptop's session:\n%s", res.Text)
	}
	// At once, on this instance: no poll of the revocation log between.
	sitetest.Expect(t, laptop.Get("/"), http.StatusFound, "/.smsgate/login?rd=%2F")
	if r := phone.Get("/"); r.StatusCode != http.StatusOK || r.Text != "Hello, carol!" {
		t.Fatalf("the phone after the laptop's end: %d %q", r.StatusCode, r.Text)
	}
	// Again, or one never listed: a clear answer, nothing ended; a 404,
	// as the admin API's (admin.Refuse: before, the console's was a 400,
	// for its having words).
	res = consolePost(admin, path, end, s.Base)
	sitetest.Expect(t, res, http.StatusNotFound, "")
	sitetest.ExpectBody(t, res, "There is no such session of carol")

	// The admin API: the same list, the same end.
	st, body := sitetest.Admin(t, http.MethodGet, "/smsgate/sessions?realm=localhost&user=carol", "")
	var listed []session.Info
	if err := json.Unmarshal([]byte(body), &listed); st != http.StatusOK || err != nil || len(listed) != 1 || listed[0].SID != phoneSID ||
		listed[0].Where.Browser != "Safari" || listed[0].Where.System != "iOS" || listed[0].AMR[0] != "sms" || strings.Contains(body, "Mozilla") {
		t.Fatalf("GET /smsgate/sessions: %d %s", st, body)
	}
	if st, body := sitetest.Admin(t, http.MethodGet, "/smsgate/sessions?realm=localhost", ""); st != http.StatusBadRequest || !strings.Contains(body, "user is required") {
		t.Fatalf("sessions of nobody: %d %s", st, body)
	}
	if st, body := sitetest.Admin(t, http.MethodPost, "/smsgate/sessions/end", `{"realm":"localhost","user":"carol","id":"`+phoneSID+`"}`); st != http.StatusOK || !strings.Contains(body, phoneSID) {
		t.Fatalf("POST /smsgate/sessions/end: %d %s", st, body)
	}
	if st, body := sitetest.Admin(t, http.MethodPost, "/smsgate/sessions/end", `{"realm":"localhost","user":"alice","id":"`+phoneSID+`"}`); st != http.StatusNotFound || !strings.Contains(body, "no such session of alice") {
		t.Fatalf("ending carol's session as alice's: %d %s", st, body)
	}
	sitetest.Expect(t, phone.Get("/"), http.StatusFound, "/.smsgate/login?rd=%2F")
	if st, body := sitetest.Admin(t, http.MethodGet, "/smsgate/sessions?user=carol", ""); st != http.StatusOK || strings.TrimSpace(body) != "[]" {
		t.Fatalf("after both ends: %d %s", st, body)
	}
	sitetest.ExpectBody(t, admin.Get(path), "None listed.")

	// Who did it, in what happened.
	res = admin.Get("/.smsgate/admin/events?kind=admin_")
	if n := strings.Count(res.Text, `<td data-kind="admin_sessions_end">`); n != 2 || !strings.Contains(res.Text, "<td>alice</td>") {
		t.Fatalf("%d ends in the events, want 2 (one by alice):\n%s", n, res.Text)
	}
}

// TestConsoleSessionsFromAnOlderRelease: a session signed before sessions
// were listed (by an older release: signed with the site's key, and in no
// index) is not listed — the page and the API say so and still work — and
// "Sign out everywhere" ends it.
func TestConsoleSessionsFromAnOlderRelease(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, sitetest.NamedUsersSite)
	admin := sitetest.NewClient(t, "")
	sitetest.SignInAs(t, s, admin, "alice")
	// The older release's session: the same key and realm, written to a
	// store of its own (this release notes it there, not in the site's).
	elsewhere := storetest.Badger(t)
	old, err := session.NewManager(context.Background(), session.Config{Store: elsewhere, Realm: "localhost",
		Secret: []byte("a signing key of at least thirty-two bytes, for tests"), Alg: "HS256", Lifetime: 12 * time.Hour, Now: s.Now})
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := old.IssueBegun(context.Background(), session.Began{}, "carol", []factor.AMR{factor.AMRSMS}, session.Where{})
	if err != nil {
		t.Fatal(err)
	}
	carol := sitetest.NewClient(t, "")
	carol.SetCookie("smsgate_session", tok)
	if r := carol.Get("/"); r.StatusCode != http.StatusOK || r.Text != "Hello, carol!" {
		t.Fatalf("the older release's session: %d %q", r.StatusCode, r.Text)
	}

	path := "/.smsgate/admin/user?name=carol"
	page := admin.Get(path)
	sitetest.Expect(t, page, http.StatusOK, "")
	sitetest.ExpectBody(t, page, "None listed.")
	sitetest.ExpectBody(t, page, "Sessions signed in before this version of the gate are not listed")
	if st, body := sitetest.Admin(t, http.MethodGet, "/smsgate/sessions?user=carol", ""); st != http.StatusOK || strings.TrimSpace(body) != "[]" {
		t.Fatalf("the API: %d %s", st, body)
	}
	tok2 := sitetest.CSRFField.FindStringSubmatch(page.Text)[1]
	sitetest.ConsoleDone(t, consolePost(admin, path, url.Values{"action": {"revoke"}, "confirm": {"1"}, "csrf": {tok2}}, s.Base), "revoke")
	sitetest.Expect(t, carol.Get("/"), http.StatusFound, "/.smsgate/login?rd=%2F")
}

// TestConsoleKeepsItsPlaceAcrossSignIn: an admin who opens a user's page
// without a session (a link, a bookmark) is back on that user's page once
// signed in, not on a page that asks "Name a user." (the query was lost).
func TestConsoleKeepsItsPlaceAcrossSignIn(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, sitetest.NamedUsersSite)
	c := sitetest.NewClient(t, "")
	sitetest.Expect(t, c.Get("/.smsgate/admin/user?name=carol"), http.StatusSeeOther, "/.smsgate/login")
	s.Advance(time.Minute)
	tok := c.CSRF("/.smsgate/login")
	sitetest.Expect(t, c.Post("/.smsgate/login", url.Values{"username": {"alice"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/admin/user?name=carol")
	sitetest.ExpectBody(t, c.Get("/.smsgate/admin/user?name=carol"), "<h2>carol</h2>")
	// Stale five minutes on: a new code first, then back to the search.
	s.Advance(6 * time.Minute)
	sitetest.Expect(t, c.Get("/.smsgate/admin/?q=car"), http.StatusSeeOther, "/.smsgate/verify")
	tok = c.CSRF("/.smsgate/verify")
	sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/admin/?q=car")
}

// racedUser is TestConsoleEndRacesASignIn's user: the end of one of her
// sessions is held once it read her index of sessions (the package's
// sitetest.Holds).
const racedUser = "dana"

// TestConsoleEndRacesASignIn: through a real Caddy, on Badger and on
// Redis, an admin ends one of dana's sessions while dana signs in on
// another browser, twice: the end is held once it read her index of
// sessions to take the ended one out, until the sign-in has listed the
// new one there and been answered. Each time the ended one is gone and
// signed out, the new one listed and signed in: the index is changed in
// one atomic step (Store.Update), so the end's change, made on the list
// it read, is made again on the list the sign-in left. With the index's
// change made on a read before it (a read then a write), the end wrote
// the list it read less the ended one: the new session was listed no
// more (the console could not end it). Before, the two ran free at once,
// five times: with that read then write they met in none of ten runs
// (session's TestRacingIndex interleaves them).
func TestConsoleEndRacesASignIn(t *testing.T) {
	sitetest.Parallel(t)
	for _, kind := range []string{"badger", "redis"} {
		t.Run(kind, func(t *testing.T) {
			sitetest.Parallel(t)
			s, dir := heldSite(t, kind, "user alice +14155550101", "user "+racedUser+" +14155552672", "admins alice")
			admin, old := sitetest.NewClient(t, ""), sitetest.NewClient(t, "")
			sitetest.SignInAs(t, s, admin, "alice")
			sitetest.SignInAs(t, s, old, racedUser)
			path := "/.smsgate/admin/user?name=" + racedUser
			for round := range 2 {
				page := admin.Get(path)
				oldSID := regexpSession.FindStringSubmatch(page.Text)[1] // the newest: old's
				tok := sitetest.CSRFField.FindStringSubmatch(page.Text)[1]
				fresh := sitetest.NewClient(t, "") // no cooldown to wait: the last code was used
				ftok := fresh.CSRF("/.smsgate/login")
				sitetest.Expect(t, fresh.Post("/.smsgate/login", url.Values{"username": {racedUser}, "csrf": {ftok}}), http.StatusSeeOther, "/.smsgate/verify")
				code := s.LastCode()
				sitetest.AddHold(t, dir, sitetest.Hold{Of: racedUser, Op: "update", Key: "sessions/localhost/" + racedUser})
				end := sitetest.Park(t, dir, func() *sitetest.Response {
					return consolePost(admin, path, url.Values{"action": {"end"}, "session": {oldSID}, "csrf": {tok}}, s.Base)
				})
				sitetest.Expect(t, fresh.Post("/.smsgate/verify", url.Values{"code": {code}, "csrf": {ftok}}), http.StatusSeeOther, "/")
				sitetest.Expect(t, end.Release(t), http.StatusSeeOther, "/.smsgate/admin/user?name="+racedUser)
				page = admin.Get(path)
				if n := strings.Count(page.Text, `name="action" value="end"`); n != 1 || strings.Contains(page.Text, oldSID) {
					t.Fatalf("round %d: %d sessions listed (want the new one only), the ended one listed: %v", round, n, strings.Contains(page.Text, oldSID))
				}
				sitetest.Expect(t, old.Get("/"), http.StatusFound, "/.smsgate/login?rd=%2F")
				sitetest.Expect(t, fresh.Get("/"), http.StatusOK, "")
				old = fresh
			}
		})
	}
}
