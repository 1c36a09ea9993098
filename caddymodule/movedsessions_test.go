package caddymodule_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/pages"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestAMoveKeepsTheAdminsHoldOnLiveSessions (movesess41): alice signs in
// in two browsers, one of them trusted, and the admin mints an invite for
// bob; the admin moves the store (an export with the keys, imported into
// a new one of the same kind). The sessions signed before the move still
// admit (the same signing key): the admin API must list each, and its end
// by its SID must end it (the browser refused after). Before, the export
// left the users' indexes of sessions out: none was listed, and an end
// answered "no such session" while the session admitted. The trust and
// the invite are not carried (their record is their truth, which a file
// taken before their end would bring back): after the move the trusted
// browser enters a code again and the invite does not open. Through a
// real Caddy, Badger to Badger and Redis to Redis.
func TestAMoveKeepsTheAdminsHoldOnLiveSessions(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := textSite(t, storeLine, []string{"alice"}, "\t\tremember 30d\n")
		addUser(t, s, "alice", "+14155552671")
		trusted, plain := sitetest.NewClient(t, "alice"), sitetest.NewClient(t, "alice")
		signInRemembering(t, s, trusted, true)
		signIn(t, s, plain)
		if trusted.Cookie(pages.TrustCookie) == "" {
			t.Fatal("remember this browser made no trust")
		}
		sids := []string{sessionID(t, trusted.Cookie("smsgate_session")), sessionID(t, plain.Cookie("smsgate_session"))}
		st, body := s.Admin("POST", "/smsgate/invites", `{"realm":"localhost","user":"bob","ttl":"1h"}`)
		if st != http.StatusOK {
			t.Fatalf("invite: %d %s", st, body)
		}
		var inv struct{ Path string }
		_ = json.Unmarshal([]byte(body), &inv)
		token := strings.TrimPrefix(inv.Path, "/.smsgate/invite?token=")
		code, file := s.Admin(http.MethodPost, "/smsgate/export?realm=localhost&with_keys=1", "")
		if code != http.StatusOK {
			t.Fatalf("export: %d %s", code, file)
		}

		moved := "store badger {DIR}" // a new store of the same kind
		if strings.HasPrefix(storeLine, "store redis") {
			moved = "store redis " + redistest.Server(t)
		}
		s = textSite(t, moved, []string{"alice"}, "\t\tremember 30d\n")
		if code, out := s.Admin(http.MethodPost, "/smsgate/import?realm=localhost", file); code != http.StatusOK {
			t.Fatalf("import: %d %s", code, out)
		}
		if !strings.HasPrefix(moved, "store redis") {
			moved = "store badger " + s.Store
		}
		s = textSite(t, moved, []string{"alice"}, "\t\tremember 30d\n") // the keys imported: Caddy started again
		for _, c := range []*sitetest.Client{trusted, plain} {
			sitetest.Expect(t, c.Get("/"), http.StatusOK, "") // signed with the key the move carried
		}
		// Not carried: the trust and the invite end at the move.
		fresh := sitetest.NewClient(t, "alice")
		for _, ck := range trusted.HTTP.Jar.Cookies(mustURL(t, trusted.Base()+"/.smsgate/")) {
			if ck.Name != "smsgate_session" {
				fresh.SetCookie(ck.Name, ck.Value)
			}
		}
		sitetest.Expect(t, fresh.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/.smsgate/verify")
		if res := sitetest.NewClient(t, "").Get("/.smsgate/invite?token=" + token); res.StatusCode == http.StatusOK {
			t.Errorf("an invite minted before the move opens after it")
		}
		_, out := s.Admin("GET", "/smsgate/sessions?realm=localhost&user=alice", "")
		var listed []struct{ SID string }
		_ = json.Unmarshal([]byte(out), &listed)
		for _, sid := range sids {
			if !slices.ContainsFunc(listed, func(l struct{ SID string }) bool { return l.SID == sid }) {
				t.Fatalf("a session signed before the move, live after it, is not listed: %s", out)
			}
		}
		for i, c := range []*sitetest.Client{trusted, plain} {
			if st, out := s.Admin("POST", "/smsgate/sessions/end", fmt.Sprintf(`{"realm":"localhost","user":"alice","id":%q}`, sids[i])); st != http.StatusOK {
				t.Fatalf("ending a session signed before the move: %d %s", st, out)
			}
			if res := c.Get("/"); res.StatusCode == http.StatusOK {
				t.Fatalf("a session the admin ended after the move still admits: %s", res.Text)
			}
		}
		if _, out := s.Admin("GET", "/smsgate/sessions?realm=localhost&user=alice", ""); strings.TrimSpace(out) != "[]" {
			t.Errorf("alice's sessions after their ends: %s", out)
		}
	})
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
