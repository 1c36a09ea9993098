package processes

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestAnEndedSessionChangesNothingAtTheOther (attack34b's F1): two real
// Caddys on one real Redis. Ivy and the admin vera are revoked at A (the
// CLI through A's admin endpoint); at once, before B reads the revocation
// log (its cache still admits both), ivy's session at B removes her other
// phone, and vera's at B's console resets walt and mints an invite. Each
// goes to sign-in, and nothing changes. (Before, all three went through:
// B's devices page and console asked the store nothing before writing.)
func TestAnEndedSessionChangesNothingAtTheOther(t *testing.T) {
	t.Parallel()
	addr := redistest.Server(t)
	a, b := startTwo(t, t.TempDir(), true, func(port int) string {
		return fmt.Sprintf(`http://localhost:%d {
	respond /health 200
	smsgate {
		identity none
		realm ended.localhost
		admins vera
		store redis %s
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}
`, port, addr)
	})
	cli := func(args ...string) string {
		t.Helper()
		out, err := runInProcess(t, append(append([]string{"smsgate"}, args...), "--realm", "ended.localhost", "--address", a.admin)...)
		if err != nil {
			t.Fatalf("caddy smsgate %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	id := regexp.MustCompile(`"id":\s*"([^"]+)"`)
	cli("add", "--user", "ivy", "--phone", "+14155550181")
	other := id.FindStringSubmatch(cli("add", "--user", "ivy", "--phone", "+14155550182"))[1]
	cli("add", "--user", "vera", "--phone", "+14155550183")
	cli("add", "--user", "walt", "--phone", "+14155550184")

	// signedIn signs user in at B, and returns the browser and the csrf
	// token of page there.
	signedIn := func(user, page string) (*browser, string) {
		br := newBrowser(t, b.s.base)
		_, _, login := br.do("GET", "/.smsgate/login", nil)
		m := csrfField.FindStringSubmatch(login)
		if m == nil {
			t.Fatalf("no login form at B:\n%.300s", login)
		}
		br.do("POST", "/.smsgate/login", url.Values{"username": {user}, "csrf": {m[1]}})
		if st, loc, body := br.do("POST", "/.smsgate/verify", url.Values{"code": {b.s.lastCode()}, "csrf": {m[1]}}); st != http.StatusSeeOther || loc != "/" {
			t.Fatalf("%s's sign-in at B: %d %s\n%.300s", user, st, loc, body)
		}
		_, _, body := br.do("GET", page, nil)
		if m = csrfField.FindStringSubmatch(body); m == nil {
			t.Fatalf("no form on %s for %s:\n%.300s", page, user, body)
		}
		return br, m[1]
	}
	walt := "/.smsgate/admin/user?name=walt"
	ivy, ivyCSRF := signedIn("ivy", "/.smsgate/devices")
	vera, veraCSRF := signedIn("vera", walt)
	before := cli("users", "--json")

	for _, user := range []string{"ivy", "vera"} {
		cli("revoke", "--user", user)
	}
	revoked := time.Now()
	refused := func(what string, st int, loc string) {
		t.Helper()
		t.Logf("%s at B, %s after the revokes at A: %d %s", what, time.Since(revoked).Round(time.Millisecond), st, loc)
		if st != http.StatusSeeOther || loc != "/.smsgate/login" {
			t.Errorf("%s by a session revoked at A, at B: %d %q, want 303 to the sign-in", what, st, loc)
		}
	}
	st, loc, _ := ivy.do("POST", "/.smsgate/devices", url.Values{"action": {"remove"}, "device": {other}, "confirm": {"1"}, "csrf": {ivyCSRF}})
	refused("ivy removes her other phone", st, loc)
	st, loc, _ = consolePost(t, vera, b.s.base+walt, b.s.base, url.Values{"action": {"reset"}, "confirm": {"1"}, "csrf": {veraCSRF}})
	refused("vera resets walt", st, loc)
	st, loc, _ = consolePost(t, vera, b.s.base+walt, b.s.base, url.Values{"action": {"invite"}, "csrf": {veraCSRF}})
	refused("vera invites walt", st, loc)
	if after := cli("users", "--json"); after != before {
		t.Errorf("the revoked sessions changed the users at B:\nbefore %s\nafter  %s", before, after)
	}
}
